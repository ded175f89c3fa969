package pop3

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		line string
		want Command
	}{
		{"USER alice", Command{Verb: VerbUSER, User: "alice"}},
		{"user alice@example.org", Command{Verb: VerbUSER, User: "alice@example.org"}},
		{"USER  alice ", Command{Verb: VerbUSER, User: "alice"}},
		{"USER δοκιμή", Command{Verb: VerbUSER, User: "δοκιμή"}},
		{"PASS secret", Command{Verb: VerbPASS, Password: "secret"}},
		{"PASS correct horse battery staple", Command{Verb: VerbPASS, Password: "correct horse battery staple"}},
		{"PASS  two leading and trailing  ", Command{Verb: VerbPASS, Password: " two leading and trailing  "}},
		{"PASS ", Command{Verb: VerbPASS, Password: ""}},
		{"pass Ünïcödé", Command{Verb: VerbPASS, Password: "Ünïcödé"}},
		{"APOP mrose c4c9334bac560ecc979e58001b3e22fb", Command{Verb: VerbAPOP, User: "mrose", Digest: "c4c9334bac560ecc979e58001b3e22fb"}},
		{"APOP mrose C4C9334BAC560ECC979E58001B3E22FB", Command{Verb: VerbAPOP, User: "mrose", Digest: "c4c9334bac560ecc979e58001b3e22fb"}},
		{"AUTH", Command{Verb: VerbAUTH}},
		{"AUTH PLAIN", Command{Verb: VerbAUTH, Mechanism: "PLAIN"}},
		{"auth plain", Command{Verb: VerbAUTH, Mechanism: "PLAIN"}},
		{"AUTH PLAIN AGFsaWNlAHNlY3JldA==", Command{Verb: VerbAUTH, Mechanism: "PLAIN",
			InitialResponse: []byte("\x00alice\x00secret"), HasInitialResponse: true}},
		{"AUTH EXTERNAL =", Command{Verb: VerbAUTH, Mechanism: "EXTERNAL", InitialResponse: []byte{}, HasInitialResponse: true}},
		{"AUTH SCRAM-SHA-256", Command{Verb: VerbAUTH, Mechanism: "SCRAM-SHA-256"}},
		{"STLS", Command{Verb: VerbSTLS}},
		{"CAPA", Command{Verb: VerbCAPA}},
		{"STAT", Command{Verb: VerbSTAT}},
		{"stat ", Command{Verb: VerbSTAT}},
		{"LIST", Command{Verb: VerbLIST}},
		{"LIST 7", Command{Verb: VerbLIST, Msg: 7}},
		{"UIDL", Command{Verb: VerbUIDL}},
		{"UIDL 2147483647", Command{Verb: VerbUIDL, Msg: MaxNumber}},
		{"RETR 1", Command{Verb: VerbRETR, Msg: 1}},
		{"RETR 007", Command{Verb: VerbRETR, Msg: 7}},
		{"TOP 3 0", Command{Verb: VerbTOP, Msg: 3, Lines: 0}},
		{"top 3 10", Command{Verb: VerbTOP, Msg: 3, Lines: 10}},
		{"DELE 12", Command{Verb: VerbDELE, Msg: 12}},
		{"RSET", Command{Verb: VerbRSET}},
		{"NOOP", Command{Verb: VerbNOOP}},
		{"QUIT", Command{Verb: VerbQUIT}},
		{"UTF8", Command{Verb: VerbUTF8}},
		{"LANG", Command{Verb: VerbLANG}},
		{"LANG fr", Command{Verb: VerbLANG, Lang: "fr"}},
		{"LANG *", Command{Verb: VerbLANG, Lang: "*"}},
	}
	for _, tt := range tests {
		got, err := ParseCommand([]byte(tt.line))
		if err != nil {
			t.Errorf("ParseCommand(%q): %v", tt.line, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCommand(%q)\n got %+v\nwant %+v", tt.line, got, tt.want)
		}
	}
}

func TestParseCommandErrors(t *testing.T) {
	tests := []struct {
		line string
		kind error
	}{
		{"", ErrSyntax},
		{"   ", ErrSyntax},
		{"HELO x", ErrUnknownCommand},
		{"RETRIEVE 1", ErrUnknownCommand},
		{"XX", ErrUnknownCommand},
		{"USER", ErrSyntax},
		{"USER a b", ErrSyntax},
		{"PASS", ErrSyntax},
		{"APOP mrose", ErrSyntax},
		{"APOP mrose c4c9", ErrSyntax},
		{"APOP mrose c4c9334bac560ecc979e58001b3e22fg", ErrSyntax},
		{"AUTH PLAIN a b", ErrSyntax},
		{"AUTH PL/AIN", ErrSyntax},
		{"AUTH ABCDEFGHIJKLMNOPQRSTU", ErrSyntax},
		{"AUTH PLAIN !!!", ErrBadBase64},
		{"AUTH PLAIN AGFsaWNl=", ErrBadBase64},
		{"STLS now", ErrSyntax},
		{"CAPA x", ErrSyntax},
		{"STAT 1", ErrSyntax},
		{"QUIT now", ErrSyntax},
		{"UTF8 on", ErrSyntax},
		{"LIST 1 2", ErrSyntax},
		{"LIST 0", ErrBadNumber},
		{"LIST -1", ErrBadNumber},
		{"LIST +1", ErrBadNumber},
		{"LIST x", ErrBadNumber},
		{"UIDL 2147483648", ErrBadNumber},
		{"UIDL 99999999999999999999", ErrBadNumber},
		{"RETR", ErrSyntax},
		{"RETR 0", ErrBadNumber},
		{"RETR 1.5", ErrBadNumber},
		{"DELE", ErrSyntax},
		{"TOP 1", ErrSyntax},
		{"TOP 1 2 3", ErrSyntax},
		{"TOP 0 5", ErrBadNumber},
		{"TOP 1 -5", ErrBadNumber},
		{"LANG en fr", ErrSyntax},
	}
	for _, tt := range tests {
		_, err := ParseCommand([]byte(tt.line))
		var ce *CommandError
		if !errors.As(err, &ce) || !errors.Is(err, tt.kind) {
			t.Errorf("ParseCommand(%q) = %v, want %v", tt.line, err, tt.kind)
			continue
		}
		reply := string(ce.AppendReply(nil))
		if !strings.HasPrefix(reply, "-ERR ") || !strings.HasSuffix(reply, "\r\n") || strings.Count(reply, "\n") != 1 {
			t.Errorf("ParseCommand(%q) reply %q", tt.line, reply)
		}
		if ce.Error() == "" {
			t.Errorf("empty error text")
		}
	}
}

func TestCommandStringRedactsSecrets(t *testing.T) {
	tests := map[string]string{
		"PASS hunter2 and more":           "PASS <redacted>",
		"AUTH PLAIN AGFsaWNlAHNlY3JldA==": "AUTH PLAIN <redacted>",
		"AUTH PLAIN":                      "AUTH PLAIN",
		"AUTH":                            "AUTH",
		"USER alice":                      "USER alice",
		"APOP a 0123456789abcdef0123456789abcdef": "APOP a 0123456789abcdef0123456789abcdef",
		"LIST":    "LIST",
		"LIST 3":  "LIST 3",
		"UIDL 4":  "UIDL 4",
		"RETR 5":  "RETR 5",
		"DELE 6":  "DELE 6",
		"TOP 7 8": "TOP 7 8",
		"LANG":    "LANG",
		"LANG de": "LANG de",
		"STAT":    "STAT",
	}
	for line, want := range tests {
		cmd, err := ParseCommand([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		if got := cmd.String(); got != want {
			t.Errorf("%q: String() = %q, want %q", line, got, want)
		}
	}
}
