package smtp

import (
	"bytes"
	"testing"
)

func TestReplyWireForm(t *testing.T) {
	tests := []struct {
		r    Reply
		want string
	}{
		{Reply{Code: 250, Enhanced: "2.1.0", Lines: []string{"Sender OK"}}, "250 2.1.0 Sender OK\r\n"},
		{Reply{Code: 250, Enhanced: "2.0.0", Lines: []string{"one", "two", "three"}},
			"250-2.0.0 one\r\n250-2.0.0 two\r\n250 2.0.0 three\r\n"},
		{Reply{Code: 354}, "354 \r\n"},
		{Reply{Code: 250, Enhanced: "2.0.0"}, "250 2.0.0\r\n"},
		{Reply{Code: 550, Enhanced: "5.1.1", Lines: []string{"<a@b>\r\n250 2.0.0 forged"}},
			"550 5.1.1 <a@b>  250 2.0.0 forged\r\n"},
		{Reply{Code: 7, Lines: []string{"bad code"}}, "500 bad code\r\n"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%+v:\n got %q\nwant %q", tt.r, got, tt.want)
		}
		var buf bytes.Buffer
		n, err := tt.r.WriteTo(&buf)
		if err != nil || n != int64(len(tt.want)) || buf.String() != tt.want {
			t.Errorf("WriteTo = %d, %v, %q", n, err, buf.String())
		}
	}
	// AppendTo appends.
	if got := string(OK("done").AppendTo([]byte("x"))); got != "x250 2.0.0 done\r\n" {
		t.Errorf("AppendTo = %q", got)
	}
}

func TestLHLOReply(t *testing.T) {
	all := Capabilities{Pipelining: true, EightBitMIME: true, BinaryMIME: true, SMTPUTF8: true,
		EnhancedStatusCodes: true, Chunking: true, StartTLS: true, MaxSize: 52428800}
	want := "250-mail.example.org\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-BINARYMIME\r\n250-SMTPUTF8\r\n" +
		"250-ENHANCEDSTATUSCODES\r\n250-SIZE 52428800\r\n250-CHUNKING\r\n250 STARTTLS\r\n"
	if got := LHLOReply("mail.example.org", all).String(); got != want {
		t.Errorf("all capabilities:\n got %q\nwant %q", got, want)
	}
	if got := LHLOReply("h", Capabilities{}).String(); got != "250 h\r\n" {
		t.Errorf("no capabilities: %q", got)
	}
	// BINARYMIME without CHUNKING is never advertised (RFC 3030).
	if got := LHLOReply("h", Capabilities{BinaryMIME: true}).String(); got != "250 h\r\n" {
		t.Errorf("BINARYMIME alone: %q", got)
	}
}

func TestStandardReplies(t *testing.T) {
	tests := []struct {
		r    Reply
		want string
	}{
		{Greeting("mx.example.org"), "220 mx.example.org LMTP ready\r\n"},
		{Closing("mx.example.org"), "221 2.0.0 mx.example.org closing connection\r\n"},
		{OK("<a@example.org> delivered"), "250 2.0.0 <a@example.org> delivered\r\n"},
		{SenderOK(), "250 2.1.0 Sender OK\r\n"},
		{RecipientOK(), "250 2.1.5 Recipient OK\r\n"},
		{StartMailInput(), "354 End data with <CR><LF>.<CR><LF>\r\n"},
		{HelpReply(), "214 2.0.0 See RFC 2033\r\n"},
		{CannotVerify(), "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"},
		{ShuttingDown("mx"), "421 4.3.2 mx Service shutting down, closing transmission channel\r\n"},
		{MailboxFull(450), "450 4.2.2 Mailbox full, try again later\r\n"},
		{MailboxFull(451), "451 4.2.2 Mailbox full, try again later\r\n"},
		{MailboxFull(452), "452 4.2.2 Mailbox full, try again later\r\n"},
		{MailboxFull(552), "552 5.2.2 Mailbox full\r\n"},
		{MailboxFull(999), "452 4.2.2 Mailbox full, try again later\r\n"},
		{LocalError(), "451 4.3.0 Local error in processing, try again later\r\n"},
		{LineTooLong(), "500 5.5.2 Line too long\r\n"},
		{SyntaxError("Syntax error"), "500 5.5.2 Syntax error\r\n"},
		{UseLHLO(), "500 5.5.1 This is an LMTP server, use LHLO\r\n"},
		{BadArguments("Bad arguments"), "501 5.5.4 Bad arguments\r\n"},
		{BadSequence("MAIL first"), "503 5.5.1 MAIL first\r\n"},
		{NoSuchUser("nobody@example.org"), "550 5.1.1 <nobody@example.org> User unknown\r\n"},
		{MessageTooBig(), "552 5.3.4 Message size exceeds fixed limit\r\n"},
		{ContentRejected("Bare LF not accepted"), "554 5.6.0 Bare LF not accepted\r\n"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	// A command error's reply renders like the helper it matches.
	_, err := ParseCommand([]byte("NOOP " + string(make([]byte, 0))))
	if err != nil {
		t.Fatal(err)
	}
	p := NewParser(Config{MaxLineLength: 512})
	p.Feed(append(bytes.Repeat([]byte("a"), 600), '\n'))
	_, err = p.Next()
	ce, ok := err.(*CommandError)
	if !ok || ce.Reply.String() != LineTooLong().String() {
		t.Errorf("line-too-long error reply = %v", err)
	}
}
