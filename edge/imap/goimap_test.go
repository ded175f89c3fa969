package imap

import (
	"bytes"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/eidermail/eider/internal/testkit"
)

// TestGoIMAPClient drives a whole session with emersion/go-imap v2's
// client: login, LIST, SELECT, FETCH with body sections, STORE, MOVE,
// IDLE with a delivery from another session arriving as EXISTS.
func TestGoIMAPClient(t *testing.T) {
	ts := newTestServer(t, serverOptions{noPlain: true})
	ts.appendMessage("INBOX", readMessage(t, "plain.eml"), `\Seen`)
	ts.appendMessage("INBOX", readMessage(t, "multipart.eml"))

	exists := make(chan uint32, 16)
	dbgw := &testkit.SyncBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("client transcript:\n%s", dbgw.String())
		}
	}()
	c, err := imapclient.DialStartTLS(ts.addr, &imapclient.Options{
		DebugWriter: dbgw,
		TLSConfig:   ts.cert.ClientConfig(),
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	must(t, err)
	defer c.Close()
	must(t, c.Login(testUser, testPassword).Wait())
	if !c.Caps().Has(goimap.CapIMAP4rev2) || !c.Caps().Has(goimap.CapMove) {
		t.Errorf("capabilities after login: %v", c.Caps())
	}

	boxes, err := c.List("", "*", &goimap.ListOptions{ReturnSpecialUse: true}).Collect()
	must(t, err)
	var names []string
	special := map[string]goimap.MailboxAttr{}
	for _, b := range boxes {
		names = append(names, b.Mailbox)
		for _, a := range b.Attrs {
			if a == goimap.MailboxAttrSent || a == goimap.MailboxAttrArchive {
				special[b.Mailbox] = a
			}
		}
	}
	if strings.Join(names, ",") != "INBOX,Archive,Drafts,Junk,Sent,Trash" || special["Sent"] != goimap.MailboxAttrSent {
		t.Errorf("LIST: %v %v", names, special)
	}

	sel, err := c.Select("INBOX", nil).Wait()
	must(t, err)
	if sel.NumMessages != 2 || sel.UIDNext != 3 || sel.UIDValidity == 0 {
		t.Fatalf("SELECT: %+v", sel)
	}

	header := &goimap.FetchItemBodySection{Specifier: goimap.PartSpecifierHeader, Peek: true}
	part1 := &goimap.FetchItemBodySection{Part: []int{1}, Peek: true}
	whole := &goimap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(goimap.SeqSetNum(1, 2), &goimap.FetchOptions{
		UID: true, Flags: true, RFC822Size: true, Envelope: true,
		BodyStructure: &goimap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*goimap.FetchItemBodySection{header, part1, whole},
	}).Collect()
	must(t, err)
	if len(msgs) != 2 {
		t.Fatalf("FETCH returned %d messages", len(msgs))
	}
	m2 := msgs[1]
	if m2.UID != 2 || m2.Envelope.Subject != "Report attached" || len(m2.Envelope.To) != 2 {
		t.Errorf("message 2: uid %d envelope %+v", m2.UID, m2.Envelope)
	}
	if got := m2.FindBodySection(whole); !bytes.Equal(got, readMessage(t, "multipart.eml")) || int64(len(got)) != m2.RFC822Size {
		t.Errorf("BODY[] differs from the delivered message (%d bytes, size %d)", len(got), m2.RFC822Size)
	}
	if got := string(m2.FindBodySection(part1)); got != "The report is attached. Caf=C3=A9 at three?" {
		t.Errorf("BODY[1] = %q", got)
	}
	if got := string(m2.FindBodySection(header)); !strings.HasPrefix(got, "From: Carol") || !strings.HasSuffix(got, "\r\n\r\n") {
		t.Errorf("BODY[HEADER] = %q", got)
	}
	mp, ok := m2.BodyStructure.(*goimap.BodyStructureMultiPart)
	if !ok || len(mp.Children) != 2 || mp.Subtype != "mixed" && mp.Subtype != "MIXED" {
		t.Errorf("BODYSTRUCTURE: %#v", m2.BodyStructure)
	}

	binary, err := c.Fetch(goimap.SeqSetNum(2), &goimap.FetchOptions{
		BinarySection: []*goimap.FetchItemBinarySection{{Part: []int{2}, Peek: true}},
	}).Collect()
	must(t, err)
	if got := binary[0].FindBinarySection(&goimap.FetchItemBinarySection{Part: []int{2}}); len(got) != 32 || got[0] != 0 || got[31] != 31 {
		t.Errorf("BINARY[2] = %v", got)
	}

	stored, err := c.Store(goimap.SeqSetNum(2), &goimap.StoreFlags{Op: goimap.StoreFlagsAdd, Flags: []goimap.Flag{goimap.FlagFlagged, "$Work"}}, nil).Collect()
	must(t, err)
	if len(stored) != 1 || !hasFlag(stored[0].Flags, goimap.FlagFlagged) || !hasFlag(stored[0].Flags, "$Work") {
		t.Errorf("STORE: %+v", stored)
	}

	moved, err := c.Move(goimap.SeqSetNum(1), "Archive").Wait()
	must(t, err)
	if moved.UIDValidity == 0 || moved.SourceUIDs.String() != "1" || moved.DestUIDs.String() != "1" {
		t.Errorf("MOVE: %+v", moved)
	}
	if n := c.Mailbox().NumMessages; n != 1 {
		t.Errorf("after MOVE the client counts %d messages", n)
	}
	drain(exists)

	idle, err := c.Idle()
	must(t, err)
	// Another session delivers: the idling client must hear of it.
	other, err := imapclient.DialTLS(ts.tlsAddr, &imapclient.Options{TLSConfig: ts.cert.ClientConfig()})
	must(t, err)
	defer other.Close()
	must(t, other.Login(testUser, testPassword).Wait())
	msg := readMessage(t, "plain.eml")
	app := other.Append("INBOX", int64(len(msg)), nil)
	_, err = app.Write(msg)
	must(t, err)
	must(t, app.Close())
	res, err := app.Wait()
	must(t, err)
	if res.UID != 3 {
		t.Errorf("APPENDUID: %+v", res)
	}
	select {
	case n := <-exists:
		if n != 2 {
			t.Errorf("EXISTS %d during IDLE, want 2", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no EXISTS during IDLE")
	}
	must(t, idle.Close())
	must(t, idle.Wait())

	// UID SEARCH and EXPUNGE round the session off.
	data, err := c.UIDSearch(&goimap.SearchCriteria{Flag: []goimap.Flag{goimap.FlagFlagged}}, nil).Wait()
	must(t, err)
	if uids := data.AllUIDs(); len(uids) != 1 || uids[0] != 2 {
		t.Errorf("UID SEARCH FLAGGED: %v", uids)
	}
	must(t, c.Logout().Wait())
}

func hasFlag(flags []goimap.Flag, f goimap.Flag) bool {
	for _, x := range flags {
		if strings.EqualFold(string(x), string(f)) {
			return true
		}
	}
	return false
}

func drain[T any](ch chan T) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

var _ = tls.VersionTLS12
