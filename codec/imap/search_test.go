package imap

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestSearchCriteria(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"ALL", "ALL"},
		{"all", "ALL"},
		{"ANSWERED DELETED DRAFT FLAGGED RECENT SEEN", "(ANSWERED DELETED DRAFT FLAGGED RECENT SEEN)"},
		{"UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN", "(UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN)"},
		{"NEW", "(RECENT UNSEEN)"},
		{"OLD", "OLD"},
		{"NOT RECENT", "NOT RECENT"},
		{"KEYWORD $Forwarded UNKEYWORD Junk", "(KEYWORD $Forwarded UNKEYWORD Junk)"},
		{"FROM \"Smith\" TO bob CC a BCC b SUBJECT \"hello world\"", `(FROM Smith TO bob CC a BCC b SUBJECT "hello world")`},
		{"HEADER X-Mailer Outlook", "HEADER X-Mailer Outlook"},
		{"HEADER Message-ID \"\"", `HEADER Message-ID ""`},
		{"BODY {5+}\r\nhello TEXT x", "(BODY hello TEXT x)"},
		{"SINCE 1-Feb-1994 NOT FROM \"Smith\"", "(SINCE 1-Feb-1994 NOT FROM Smith)"},
		{"BEFORE \"01-Feb-1994\" ON 29-Feb-2024", "(BEFORE 1-Feb-1994 ON 29-Feb-2024)"},
		{"SENTBEFORE 1-jan-2000 SENTON 2-Jan-2000 SENTSINCE 3-JAN-2000", "(SENTBEFORE 1-Jan-2000 SENTON 2-Jan-2000 SENTSINCE 3-Jan-2000)"},
		{"SAVEDBEFORE 1-Jan-2000 SAVEDON 2-Jan-2000 SAVEDSINCE 3-Jan-2000 SAVEDATESUPPORTED", "(SAVEDBEFORE 1-Jan-2000 SAVEDON 2-Jan-2000 SAVEDSINCE 3-Jan-2000 SAVEDATESUPPORTED)"},
		{"LARGER 1000 SMALLER 5000000000", "(LARGER 1000 SMALLER 5000000000)"},
		{"UID 1:100,200:* 5,7", "(UID 1:100,200:* 5,7)"},
		{"$", "$"},
		{"UID $", "UID $"},
		{"OR SEEN FLAGGED", "OR SEEN FLAGGED"},
		{"OR (SEEN FROM a) NOT (DELETED OR ANSWERED DRAFT)", "OR (SEEN FROM a) NOT (DELETED OR ANSWERED DRAFT)"},
		{"((SEEN))", "SEEN"},
		{"MODSEQ 620162338", "MODSEQ 620162338"},
		{"MODSEQ \"/flags/\\\\draft\" all 620162338", `MODSEQ "/flags/\\draft" all 620162338`},
		{"OLDER 3600 YOUNGER 60", "(OLDER 3600 YOUNGER 60)"},
		{"EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9", "(EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9)"},
		{"TEXT \"caf\xc3\xa9\"", "TEXT {5}\r\ncaf\xc3\xa9"},
	}
	for _, tc := range tests {
		k, err := ParseSearchCriteria(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := k.String(); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
		again, err := ParseSearchCriteria(k.String())
		if err != nil || !reflect.DeepEqual(again, k) {
			t.Errorf("%q: round trip %v:\n got %#v\nwant %#v", tc.in, err, again, k)
		}
	}
}

func TestSearchTree(t *testing.T) {
	k, err := ParseSearchCriteria(`OR FROM "a" (SINCE 1-Feb-1994 UNSEEN) 2:4`)
	if err != nil {
		t.Fatal(err)
	}
	want := &SearchKey{Op: SearchAnd, Children: []*SearchKey{
		{Op: SearchOr, Children: []*SearchKey{
			{Op: SearchHeader, Field: "From", Value: "a"},
			{Op: SearchAnd, Children: []*SearchKey{
				{Op: SearchSince, Date: time.Date(1994, 2, 1, 0, 0, 0, 0, time.UTC)},
				{Op: SearchNoFlag, Flag: FlagSeen},
			}},
		}},
		{Op: SearchSeqSet, SeqSet: SeqSet{Ranges: []SeqRange{{2, 4}}}},
	}}
	if !reflect.DeepEqual(k, want) {
		t.Fatalf("got %s", k)
	}
}

func TestSearchCommand(t *testing.T) {
	tests := []struct {
		in   string
		want *SearchCommand
	}{
		{"a SEARCH CHARSET utf-8 TEXT x", &SearchCommand{Charset: "UTF-8", Criteria: &SearchKey{Op: SearchText, Value: "x"}}},
		{"a UID SEARCH RETURN (MIN MAX COUNT) UNSEEN", &SearchCommand{UID: true, Return: SearchReturn{Set: true, Min: true, Max: true, Count: true},
			Criteria: &SearchKey{Op: SearchNoFlag, Flag: FlagSeen}}},
		{"a SEARCH RETURN () ALL", &SearchCommand{Return: SearchReturn{Set: true, All: true}, Criteria: &SearchKey{Op: SearchAll}}},
		{"a SEARCH RETURN (SAVE) CHARSET US-ASCII FLAGGED", &SearchCommand{Return: SearchReturn{Set: true, Save: true}, Charset: "US-ASCII",
			Criteria: &SearchKey{Op: SearchFlag, Flag: FlagFlagged}}},
		{"a SEARCH RETURN (ALL) 1:5", &SearchCommand{Return: SearchReturn{Set: true, All: true}, Criteria: &SearchKey{Op: SearchSeqSet, SeqSet: seq("1:5")}}},
	}
	for _, tc := range tests {
		cmd, err := parseOne(t, tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := cmd.Args.(*SearchCommand); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}

func TestSearchErrors(t *testing.T) {
	tests := []struct {
		in  string
		err error
	}{
		{"", ErrSyntax},
		{"FOO", ErrSyntax},
		{"OR SEEN", ErrSyntax},
		{"NOT", ErrSyntax},
		{"(SEEN", ErrParens},
		{"SEEN)", ErrParens},
		{"SINCE 1-Foo-2000", ErrSyntax},
		{"SINCE 32-Jan-2000", ErrSyntax},
		{"LARGER x", ErrSyntax},
		{"UID 0", ErrBadSeqSet},
		{"1:2:3", ErrBadSeqSet},
		{"MODSEQ \"/foo\" all 5", ErrSyntax},
		{"MODSEQ \"/flags/x\" none 5", ErrSyntax},
		{"OLDER 0", ErrSyntax},
		{"EMAILID a.b", ErrSyntax},
		{"KEYWORD", ErrSyntax},
	}
	for _, tc := range tests {
		_, err := ParseSearchCriteria(tc.in)
		if !errors.Is(err, tc.err) {
			t.Errorf("%q: got %v, want %v", tc.in, err, tc.err)
		}
	}
}
