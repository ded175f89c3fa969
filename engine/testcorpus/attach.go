package testcorpus

import (
	"bytes"
	"fmt"
	"time"
)

// WithAttachment builds a small multipart/mixed message, CRLF throughout: a
// text part and the attachment base64-encoded in 76 character lines. The
// attachment part (headers and body) is identical for identical attachment
// bytes; Message-ID, Subject, Date and boundary differ with i. Dedup tests
// use it to store the same attachment in many messages.
func WithAttachment(i int, attachment []byte) []byte {
	boundary := fmt.Sprintf("dedup-%d-boundary", i)
	var b bytes.Buffer
	b.WriteString("From: Dedup Sender <dedup@example.com>\r\n")
	b.WriteString("To: Dedup Recipient <recipient@example.org>\r\n")
	fmt.Fprintf(&b, "Subject: Shared attachment, message %d\r\n", i)
	b.WriteString("Date: " + dedupDate(i) + "\r\n")
	fmt.Fprintf(&b, "Message-ID: <dedup-%d@example.com>\r\n", i)
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n")
	b.WriteString("\r\n")
	b.WriteString("--" + boundary + "\r\n")
	b.WriteString("Content-Type: text/plain; charset=us-ascii\r\n\r\n")
	fmt.Fprintf(&b, "Message %d carries the shared attachment.\r\n", i)
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: application/octet-stream; name=\"attachment.bin\"\r\n")
	b.WriteString("Content-Disposition: attachment; filename=\"attachment.bin\"\r\n")
	b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
	b.Write(b64Lines(attachment, 76, "\r\n"))
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

func dedupDate(i int) string {
	// One message a minute from a fixed start.
	const start = 1704110400 // 2024-01-01T12:00:00Z
	return unixDate(start + int64(i)*60)
}

func unixDate(sec int64) string {
	return time.Unix(sec, 0).UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700")
}
