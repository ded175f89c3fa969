package pop3

import "testing"

func TestReplies(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{string(AppendOK(nil, "")), "+OK\r\n"},
		{string(AppendOK(nil, "POP3 server ready")), "+OK POP3 server ready\r\n"},
		{string(AppendOK([]byte("x"), "y")), "x+OK y\r\n"},
		{string(AppendErr(nil, "", "No such message")), "-ERR No such message\r\n"},
		{string(AppendErr(nil, RespInUse, "Maildrop locked")), "-ERR [IN-USE] Maildrop locked\r\n"},
		{string(AppendErr(nil, RespLoginDelay, "Wait")), "-ERR [LOGIN-DELAY] Wait\r\n"},
		{string(AppendErr(nil, RespSysTemp, "Try later")), "-ERR [SYS/TEMP] Try later\r\n"},
		{string(AppendErr(nil, RespSysPerm, "Gone")), "-ERR [SYS/PERM] Gone\r\n"},
		{string(AppendErr(nil, RespAuth, "Invalid credentials")), "-ERR [AUTH] Invalid credentials\r\n"},
		{string(AppendErr(nil, RespUTF8, "Enable UTF8 first")), "-ERR [UTF8] Enable UTF8 first\r\n"},
		{string(AppendErr(nil, RespAuth, "")), "-ERR [AUTH]\r\n"},
		{string(AppendErr(nil, "", "evil\r\n+OK forged")), "-ERR evil  +OK forged\r\n"},
		{string(AppendChallenge(nil, nil)), "+ \r\n"},
		{string(AppendChallenge(nil, []byte("<1896.697170952@dbc.mtview.ca.us>"))),
			"+ PDE4OTYuNjk3MTcwOTUyQGRiYy5tdHZpZXcuY2EudXM+\r\n"},
		{string(AppendStat(nil, 2, 320)), "+OK 2 320\r\n"},
		{string(AppendScanListing(nil, 1, 120)), "1 120\r\n"},
		{string(AppendOKScanListing(nil, 2, 200)), "+OK 2 200\r\n"},
		{string(AppendUIDListing(nil, 1, "whqtswO00WBw418f9t5JxYwZ")), "1 whqtswO00WBw418f9t5JxYwZ\r\n"},
		{string(AppendUIDListing(nil, 3, "a b\r\n")), "3 a_b__\r\n"},
		{string(AppendOKUIDListing(nil, 2, "QhdPYR:00WBw1Ph7x7")), "+OK 2 QhdPYR:00WBw1Ph7x7\r\n"},
		{string(AppendEnd(nil)), ".\r\n"},
		{string(AppendMultiline(nil, "2 messages", []string{"1 120", ".hidden", ""})),
			"+OK 2 messages\r\n1 120\r\n..hidden\r\n\r\n.\r\n"},
		{string(AppendMultiline(nil, "", nil)), "+OK\r\n.\r\n"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestAppendCapa(t *testing.T) {
	all := Capabilities{Top: true, User: true, SASL: []string{"PLAIN", "SCRAM-SHA-256"}, RespCodes: true,
		AuthRespCode: true, Pipelining: true, UIDL: true, STLS: true, UTF8: true, UTF8User: true, Lang: true,
		LoginDelay: 60, Expire: "NEVER", Implementation: "Eider"}
	want := "+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL PLAIN SCRAM-SHA-256\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n" +
		"PIPELINING\r\nUIDL\r\nSTLS\r\nUTF8 USER\r\nLANG\r\nLOGIN-DELAY 60\r\nEXPIRE NEVER\r\nIMPLEMENTATION Eider\r\n.\r\n"
	if got := string(AppendCapa(nil, all)); got != want {
		t.Errorf("all:\n got %q\nwant %q", got, want)
	}
	if got := string(AppendCapa(nil, Capabilities{UTF8: true})); got != "+OK Capability list follows\r\nUTF8\r\n.\r\n" {
		t.Errorf("UTF8 only: %q", got)
	}
	if got := string(AppendCapa(nil, Capabilities{})); got != "+OK Capability list follows\r\n.\r\n" {
		t.Errorf("none: %q", got)
	}
}
