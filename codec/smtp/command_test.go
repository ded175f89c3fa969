package smtp

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		line string
		want Command
	}{
		{"LHLO mx.example.org", Command{Verb: VerbLHLO, Domain: "mx.example.org", Size: -1}},
		{"lhlo mx.example.org", Command{Verb: VerbLHLO, Domain: "mx.example.org", Size: -1}},
		{"LHLO [192.0.2.7]", Command{Verb: VerbLHLO, Domain: "[192.0.2.7]", Size: -1}},
		{"LHLO  relay.example.org  extra", Command{Verb: VerbLHLO, Domain: "relay.example.org", Size: -1}},
		{"EHLO client.example", Command{Verb: VerbEHLO, Domain: "client.example", Size: -1}},
		{"HELO client.example", Command{Verb: VerbHELO, Domain: "client.example", Size: -1}},
		{"MAIL FROM:<alice@example.org>", Command{Verb: VerbMAIL, Size: -1,
			Path: Path{LocalPart: "alice", Domain: "example.org"}}},
		{"mail from:<alice@example.org>", Command{Verb: VerbMAIL, Size: -1,
			Path: Path{LocalPart: "alice", Domain: "example.org"}}},
		{"MAIL FROM: <alice@example.org>", Command{Verb: VerbMAIL, Size: -1,
			Path: Path{LocalPart: "alice", Domain: "example.org"}}},
		{"MAIL FROM:alice@example.org", Command{Verb: VerbMAIL, Size: -1,
			Path: Path{LocalPart: "alice", Domain: "example.org"}}},
		{"MAIL FROM:<>", Command{Verb: VerbMAIL, Size: -1, Path: Path{Null: true}}},
		{"MAIL FROM:<> BODY=8BITMIME", Command{Verb: VerbMAIL, Size: -1, Path: Path{Null: true}, Body: Body8BitMIME,
			Params: []Param{{"BODY", "8BITMIME", true}}}},
		{"MAIL FROM:<bob@example.org> SIZE=12345 BODY=BINARYMIME SMTPUTF8", Command{Verb: VerbMAIL,
			Path: Path{LocalPart: "bob", Domain: "example.org"}, Size: 12345, Body: BodyBinaryMIME, SMTPUTF8: true,
			Params: []Param{{"SIZE", "12345", true}, {"BODY", "BINARYMIME", true}, {"SMTPUTF8", "", false}}}},
		{"MAIL FROM:<bob@example.org>  body=7bit   size=0", Command{Verb: VerbMAIL,
			Path: Path{LocalPart: "bob", Domain: "example.org"}, Size: 0, Body: Body7Bit,
			Params: []Param{{"BODY", "7bit", true}, {"SIZE", "0", true}}}},
		{"MAIL FROM:<bob@example.org> SIZE=99999999999999999999999", Command{Verb: VerbMAIL,
			Path: Path{LocalPart: "bob", Domain: "example.org"}, Size: math.MaxInt64,
			Params: []Param{{"SIZE", "99999999999999999999999", true}}}},
		{"MAIL FROM:<bob@example.org> RET=HDRS ENVID=QQ314159 AUTH=<>", Command{Verb: VerbMAIL, Size: -1,
			Path:   Path{LocalPart: "bob", Domain: "example.org"},
			Params: []Param{{"RET", "HDRS", true}, {"ENVID", "QQ314159", true}, {"AUTH", "<>", true}}}},
		{"MAIL FROM:<δοκιμή@παράδειγμα.δοκιμή> SMTPUTF8", Command{Verb: VerbMAIL, Size: -1, SMTPUTF8: true,
			Path:   Path{LocalPart: "δοκιμή", Domain: "παράδειγμα.δοκιμή", UTF8: true},
			Params: []Param{{"SMTPUTF8", "", false}}}},
		{"RCPT TO:<carol@example.org>", Command{Verb: VerbRCPT, Size: -1,
			Path: Path{LocalPart: "carol", Domain: "example.org"}}},
		{"RCPT TO:<Postmaster>", Command{Verb: VerbRCPT, Size: -1, Path: Path{LocalPart: "Postmaster"}}},
		{"RCPT TO:<postmaster@example.org>", Command{Verb: VerbRCPT, Size: -1,
			Path: Path{LocalPart: "postmaster", Domain: "example.org"}}},
		{`RCPT TO:<"john doe"@example.org>`, Command{Verb: VerbRCPT, Size: -1,
			Path: Path{LocalPart: "john doe", Quoted: true, Domain: "example.org"}}},
		{"RCPT TO:<@relay1.example,@relay2.example:dave@example.org>", Command{Verb: VerbRCPT, Size: -1,
			Path: Path{Route: "@relay1.example,@relay2.example", LocalPart: "dave", Domain: "example.org"}}},
		{"RCPT TO:<erin@[192.0.2.1]>", Command{Verb: VerbRCPT, Size: -1,
			Path: Path{LocalPart: "erin", Domain: "[192.0.2.1]"}}},
		{"RCPT TO:<erin@[IPv6:2001:db8::1]>", Command{Verb: VerbRCPT, Size: -1,
			Path: Path{LocalPart: "erin", Domain: "[IPv6:2001:db8::1]"}}},
		{"RCPT TO:<frank@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;frank@example.org", Command{Verb: VerbRCPT,
			Size: -1, Path: Path{LocalPart: "frank", Domain: "example.org"},
			Params: []Param{{"NOTIFY", "SUCCESS,FAILURE", true}, {"ORCPT", "rfc822;frank@example.org", true}}}},
		{"DATA", Command{Verb: VerbDATA, Size: -1}},
		{"data   ", Command{Verb: VerbDATA, Size: -1}},
		{"BDAT 4096", Command{Verb: VerbBDAT, Size: -1, ChunkSize: 4096}},
		{"BDAT 0 LAST", Command{Verb: VerbBDAT, Size: -1, ChunkSize: 0, Last: true}},
		{"bdat 12 last", Command{Verb: VerbBDAT, Size: -1, ChunkSize: 12, Last: true}},
		{"RSET", Command{Verb: VerbRSET, Size: -1}},
		{"NOOP", Command{Verb: VerbNOOP, Size: -1}},
		{"NOOP are you there", Command{Verb: VerbNOOP, Size: -1, Arg: "are you there"}},
		{"QUIT", Command{Verb: VerbQUIT, Size: -1}},
		{"VRFY grace", Command{Verb: VerbVRFY, Size: -1, Arg: "grace"}},
		{"HELP", Command{Verb: VerbHELP, Size: -1}},
		{"HELP DATA", Command{Verb: VerbHELP, Size: -1, Arg: "DATA"}},
		{"STARTTLS", Command{Verb: VerbSTARTTLS, Size: -1}},
		{"StartTLS", Command{Verb: VerbSTARTTLS, Size: -1}},
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
		// The canonical form parses back to the same command.
		again, err := ParseCommand([]byte(got.String()))
		if err != nil {
			t.Errorf("reparse %q: %v", got.String(), err)
		} else if again.Verb != got.Verb || again.Path.Address() != got.Path.Address() ||
			!reflect.DeepEqual(again.Params, got.Params) || again.ChunkSize != got.ChunkSize || again.Arg != got.Arg {
			t.Errorf("reparse %q = %+v, want %+v", got.String(), again, got)
		}
	}
}

func TestParseCommandErrors(t *testing.T) {
	tests := []struct {
		line     string
		kind     error
		code     int
		enhanced string
		fatal    bool
	}{
		{"", ErrSyntax, 500, "5.5.2", false},
		{"   ", ErrSyntax, 500, "5.5.2", false},
		{"FOO bar", ErrUnknownCommand, 500, "5.5.1", false},
		{"X", ErrUnknownCommand, 500, "5.5.1", false},
		{"MAILFROM:<a@b>", ErrUnknownCommand, 500, "5.5.1", false},
		{"EXPN staff", ErrNotImplemented, 502, "5.5.1", false},
		{"AUTH PLAIN AGFsaWNlAHNlY3JldA==", ErrNotImplemented, 502, "5.5.1", false},
		{"XFORWARD NAME=x", ErrNotImplemented, 502, "5.5.1", false},
		{"LHLO", ErrSyntax, 501, "5.5.4", false},
		{"LHLO   ", ErrSyntax, 501, "5.5.4", false},
		{"MAIL", ErrSyntax, 501, "5.5.4", false},
		{"MAIL TO:<a@example.org>", ErrSyntax, 501, "5.5.4", false},
		{"MAIL FROM:", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<alice>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<postmaster>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<alice@example.org", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<alice@example.org>SIZE=1", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<a b@example.org>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<\"unterminated@example.org>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<\"ctl\x01\"@example.org>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<alice@example..org>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<alice@-example.org>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<alice@example.org.>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<alice@[300.1.1.1]>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<alice@[IPv6:192.0.2.1]>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<alice@[192.0.2.1>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<\xff\xfe@example.org>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<@relay:alice@example.org", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<@relay alice@example.org>", ErrBadPath, 501, "5.1.7", false},
		{"MAIL FROM:<alice@example.org> SIZE", ErrBadParam, 501, "5.5.4", false},
		{"MAIL FROM:<alice@example.org> SIZE=ten", ErrBadParam, 501, "5.5.4", false},
		{"MAIL FROM:<alice@example.org> SIZE=1 SIZE=2", ErrBadParam, 501, "5.5.4", false},
		{"MAIL FROM:<alice@example.org> BODY=9BIT", ErrBadParam, 501, "5.5.4", false},
		{"MAIL FROM:<alice@example.org> SMTPUTF8=yes", ErrBadParam, 501, "5.5.4", false},
		{"MAIL FROM:<alice@example.org> RET", ErrBadParam, 501, "5.5.4", false},
		{"MAIL FROM:<alice@example.org> -X=1", ErrBadParam, 501, "5.5.4", false},
		{"MAIL FROM:<alice@example.org> X=", ErrBadParam, 501, "5.5.4", false},
		{"MAIL FROM:<alice@example.org> X=a=b", ErrBadParam, 501, "5.5.4", false},
		{"MAIL FROM:<alice@example.org> MT-PRIORITY=3", ErrUnsupportedParam, 555, "5.5.4", false},
		{"RCPT TO:<>", ErrBadPath, 501, "5.1.3", false},
		{"RCPT TO:<\"postmaster\">", ErrBadPath, 501, "5.1.3", false},
		{"RCPT FROM:<a@example.org>", ErrSyntax, 501, "5.5.4", false},
		{"RCPT TO:<a@example.org> SIZE=10", ErrUnsupportedParam, 555, "5.5.4", false},
		{"RCPT TO:<a@example.org> NOTIFY", ErrBadParam, 501, "5.5.4", false},
		{"DATA now", ErrSyntax, 501, "5.5.4", false},
		{"RSET x", ErrSyntax, 501, "5.5.4", false},
		{"QUIT now", ErrSyntax, 501, "5.5.4", false},
		{"STARTTLS x", ErrSyntax, 501, "5.5.4", false},
		{"VRFY", ErrSyntax, 501, "5.5.4", false},
		{"BDAT", ErrSyntax, 501, "5.5.4", true},
		{"BDAT x", ErrSyntax, 501, "5.5.4", true},
		{"BDAT -1", ErrSyntax, 501, "5.5.4", true},
		{"BDAT 1234567890123456789", ErrSyntax, 501, "5.5.4", true},
		{"BDAT 10 FIRST", ErrSyntax, 501, "5.5.4", false},
	}
	for _, tt := range tests {
		_, err := ParseCommand([]byte(tt.line))
		var ce *CommandError
		if !errors.As(err, &ce) {
			t.Errorf("ParseCommand(%q) = %v, want a *CommandError", tt.line, err)
			continue
		}
		if !errors.Is(err, tt.kind) || ce.Reply.Code != tt.code || ce.Reply.Enhanced != tt.enhanced || ce.Fatal != tt.fatal {
			t.Errorf("ParseCommand(%q) = %v (%d %s fatal=%v), want %v %d %s fatal=%v",
				tt.line, err, ce.Reply.Code, ce.Reply.Enhanced, ce.Fatal, tt.kind, tt.code, tt.enhanced, tt.fatal)
		}
		if ce.Error() == "" || len(ce.Reply.Lines) != 1 || ce.Reply.Lines[0] == "" {
			t.Errorf("ParseCommand(%q): error without reply text", tt.line)
		}
	}
}

func TestCommandParamLookup(t *testing.T) {
	cmd, err := ParseCommand([]byte("MAIL FROM:<a@example.org> ENVID=abc body=8bitmime"))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := cmd.Param("envid"); !ok || p.Value != "abc" {
		t.Errorf("Param(envid) = %+v, %v", p, ok)
	}
	if _, ok := cmd.Param("SIZE"); ok {
		t.Error("Param(SIZE) found on a command without it")
	}
	if cmd.Body.String() != "8BITMIME" || BodyUnspecified.String() != "" || Body7Bit.String() != "7BIT" || BodyBinaryMIME.String() != "BINARYMIME" {
		t.Errorf("BodyType.String: %q", cmd.Body.String())
	}
}
