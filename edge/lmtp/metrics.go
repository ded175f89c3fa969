package lmtp

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/codec/smtp"
	"github.com/eidermail/eider/edge/netloop"
)

// Command metrics, delivery metrics and the access log.
//
// A command's latency runs from the moment the session handles it to its
// reply being queued; its result is the reply class ("2xx", "3xx", "4xx",
// "5xx"). RCPT includes the recipient lookup on a worker. DATA is answered
// by its 354; the message that follows is measured by
// eider_lmtp_delivery_duration_seconds, from its end (the dot line, or the
// last BDAT chunk) to the recipients' replies. A BDAT is timed from the end
// of its chunk to its reply, which for the last chunk is the delivery's; its
// result is then the most severe class among the recipients' replies.

type metrics struct {
	commands   *netloop.CommandMetrics
	deliveries *prometheus.CounterVec
	recipients *prometheus.CounterVec
	bytes      prometheus.Counter
	size       prometheus.Observer
	duration   prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	return &metrics{
		commands: netloop.NewCommandMetrics(reg, "lmtp"),
		deliveries: netloop.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eider_lmtp_deliveries_total",
			Help: "Messages received over LMTP, by result: delivered (every recipient), partial, failed (no recipient), refused (too big, bad terminator).",
		}, []string{"result"})),
		recipients: netloop.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eider_lmtp_recipients_total",
			Help: "Per-recipient replies after LMTP messages, by reply class (2xx delivered, 4xx try again, 5xx refused).",
		}, []string{"result"})),
		bytes: netloop.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "eider_lmtp_received_bytes_total",
			Help: "Bytes of LMTP messages received completely (before the per-recipient header lines are added).",
		})),
		size: netloop.Register(reg, prometheus.NewHistogram(netloop.HistogramOpts(
			"eider_lmtp_message_size_bytes",
			"Sizes of LMTP messages received completely.",
			512, 64<<20, 18))),
		duration: netloop.Register(reg, prometheus.NewHistogram(netloop.LatencyOpts(
			"eider_lmtp_delivery_duration_seconds",
			"Time from the end of an LMTP message to its recipients' replies: parsing the rest, storing, committing."))),
	}
}

func commandLabel(v smtp.Verb) string {
	switch v {
	case smtp.VerbLHLO, smtp.VerbEHLO, smtp.VerbHELO, smtp.VerbMAIL, smtp.VerbRCPT, smtp.VerbDATA,
		smtp.VerbBDAT, smtp.VerbRSET, smtp.VerbNOOP, smtp.VerbQUIT, smtp.VerbVRFY, smtp.VerbHELP,
		smtp.VerbSTARTTLS:
		return string(v)
	}
	return "unknown"
}

// replyClass is the result label of a reply code: "2xx" for 250.
func replyClass(code int) string {
	if code < 200 || code > 599 {
		return "error"
	}
	return strconv.Itoa(code/100) + "xx"
}

// observe records one answered command.
func (s *session) observe(v smtp.Verb, code int, start time.Time) {
	name, result, d := commandLabel(v), replyClass(code), time.Since(start)
	if m := s.h.metrics; m != nil {
		m.commands.Observe(name, result, d)
	}
	if s.h.cfg.AccessLog {
		s.logger().Info("lmtp: command", "command", name, "result", result, "reply", code, "duration", d)
	}
}

// delivered records a message's outcome once its replies are known. codes
// are the recipients' reply codes; chunked says BDAT carried the message,
// whose last chunk is then answered here.
func (d *delivery) observe(codes []int, size int64, refused bool) {
	s := d.s
	worst := 0
	delivered := 0
	for _, c := range codes {
		worst = max(worst, c/100)
		if c/100 == 2 {
			delivered++
		}
	}
	if m := s.h.metrics; m != nil {
		m.duration.Observe(time.Since(d.endAt).Seconds())
		for _, c := range codes {
			m.recipients.WithLabelValues(replyClass(c)).Inc()
		}
		result := "partial"
		switch {
		case refused:
			result = "refused"
		case delivered == len(codes):
			result = "delivered"
		case delivered == 0:
			result = "failed"
		}
		m.deliveries.WithLabelValues(result).Inc()
		if !refused {
			m.bytes.Add(float64(size))
			m.size.Observe(float64(size))
		}
	}
	if d.chunked && len(codes) > 0 {
		s.observe(smtp.VerbBDAT, worst*100, d.endAt)
	}
}
