package pop3

import (
	"bytes"
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/eidermail/eider/codec/pop3"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
)

// authAllowed says whether passwords may be sent on this connection.
func (s *session) authAllowed() bool {
	return s.c.TLS() != nil || s.h.cfg.AllowPlaintextAuth
}

const plaintextRefused = "Plaintext authentication disallowed on non-secure (SSL/TLS) connections"

func (s *session) userCmd(name string) {
	if !s.authAllowed() {
		s.fail(pop3.RespAuth, plaintextRefused)
		return
	}
	// The answer is the same whether the user exists or not.
	s.userName = name
	s.ok("Send PASS")
}

func (s *session) passCmd(password string) {
	name := s.userName
	s.userName = ""
	switch {
	case !s.authAllowed():
		s.fail(pop3.RespAuth, plaintextRefused)
	case name == "":
		s.fail("", "Send USER first")
	default:
		s.login(name, password)
	}
}

func (s *session) authCmd(cmd pop3.Command) {
	switch {
	case !s.authAllowed():
		s.fail(pop3.RespAuth, plaintextRefused)
	case cmd.Mechanism == "":
		// A bare AUTH lists the mechanisms (as RFC 1734 servers did; Outlook asks).
		s.out = pop3.AppendMultiline(s.out, "Supported mechanisms follow", []string{"PLAIN"})
	case cmd.Mechanism != "PLAIN":
		s.fail("", "Unsupported authentication mechanism")
	case cmd.HasInitialResponse:
		s.plain(cmd.InitialResponse)
	default:
		s.out = pop3.AppendChallenge(s.out, nil)
		if err := s.parser.ExpectSASL(); err != nil {
			s.logger().Error("pop3: cannot start SASL exchange", "err", err)
			s.fail(pop3.RespSysTemp, "Authentication unavailable")
		}
	}
}

func (s *session) saslResponse(r pop3.SASLResponse) {
	if r.Cancel {
		s.fail("", "Authentication cancelled")
		return
	}
	s.plain(r.Data)
}

// plain decodes a PLAIN response (RFC 4616): authzid NUL authcid NUL password.
func (s *session) plain(data []byte) {
	parts := bytes.Split(data, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 || !utf8.Valid(parts[0]) || !utf8.Valid(parts[1]) {
		s.fail(pop3.RespAuth, "Malformed PLAIN response")
		return
	}
	// Acting as another user is not offered: authzid must be empty or the user itself.
	if len(parts[0]) > 0 && !bytes.Equal(parts[0], parts[1]) {
		s.fail(pop3.RespAuth, "Authorization identity not permitted")
		return
	}
	s.login(string(parts[1]), string(parts[2]))
}

// login checks the password, takes the maildrop and lists it, on a worker.
func (s *session) login(name, password string) {
	ctx := s.c.Context()
	s.startJob(ctx, func() {
		reply, ok := s.loginJob(ctx, name, password)
		if ok || reply != nil {
			s.replied(reply)
			_ = s.c.Write(reply)
			s.endJob()
			return
		}
		s.failures++
		last := s.failures >= s.h.cfg.MaxAuthFailures
		s.logger().Info("pop3: login failed", "login", name, "failures", s.failures)
		answer := func() {
			failed := pop3.AppendErr(nil, pop3.RespAuth, "Authentication failed")
			s.replied(failed)
			_ = s.c.Write(failed)
			if last {
				_ = s.c.Close()
			}
			s.endJob()
		}
		if d := s.h.cfg.AuthFailureDelay; d > 0 {
			// A timer, not a sleeping worker: guessing costs the guesser time, not the server.
			time.AfterFunc(d, answer)
			return
		}
		answer()
	})
}

// loginJob returns the reply, and ok when the session entered the
// TRANSACTION state; a nil reply with !ok means wrong credentials.
func (s *session) loginJob(ctx context.Context, name, password string) ([]byte, bool) {
	u, err := s.h.e.Authenticate(ctx, name, password)
	switch {
	case errors.Is(err, engine.ErrAuthFailed):
		s.authObserved(netloop.AuthFailure)
		return nil, false
	case err != nil:
		s.authObserved(netloop.AuthError)
		s.logger().Warn("pop3: authentication error", "login", name, "err", err)
		return pop3.AppendErr(nil, pop3.RespSysTemp, "Authentication temporarily unavailable"), false
	}
	if !s.h.lock(u.ID, s.c.ID()) {
		s.authObserved(netloop.AuthRefused)
		s.logger().Info("pop3: maildrop in use", "user", u.Name)
		return pop3.AppendErr(nil, pop3.RespInUse, "Maildrop is locked by another POP3 session"), false
	}
	switch held, err := s.h.acquireLease(ctx, u.ID, s.c.ID()); {
	case err != nil:
		s.h.unlock(u.ID, s.c.ID())
		s.authObserved(netloop.AuthError)
		s.logger().Warn("pop3: maildrop lease", "user", u.Name, "err", err)
		return pop3.AppendErr(nil, pop3.RespSysTemp, "Maildrop temporarily unavailable"), false
	case !held:
		s.h.unlock(u.ID, s.c.ID())
		s.authObserved(netloop.AuthRefused)
		s.logger().Info("pop3: maildrop in use on another node", "user", u.Name)
		return pop3.AppendErr(nil, pop3.RespInUse, "Maildrop is locked by another POP3 session"), false
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.h.unlock(u.ID, s.c.ID())
		s.h.releaseLease(ctx, u.ID, s.c.ID())
		return nil, true
	}
	s.locked = u.ID
	s.mu.Unlock()
	drop, err := loadMaildrop(ctx, s.h.e, u.ID, s.h.cfg.MaxMessages)
	if err != nil {
		s.logger().Warn("pop3: cannot list maildrop", "user", u.Name, "err", err)
		s.releaseLock()
		return pop3.AppendErr(nil, pop3.RespSysTemp, "Maildrop temporarily unavailable"), false
	}
	s.authObserved(netloop.AuthSuccess)
	s.user, s.drop, s.state = u, drop, stateTransaction
	n, size := drop.stat()
	s.logger().Info("pop3: logged in", "messages", n, "size", size)
	return pop3.AppendOK(nil, "Logged in, "+itoa(n)+" messages ("+itoa64(size)+" octets)"), true
}

// releaseLock gives the maildrop back once, whoever asks first: OnClose
// or the end of the UPDATE state.
func (s *session) releaseLock() {
	s.mu.Lock()
	user := s.locked
	s.locked = 0
	s.mu.Unlock()
	if user != 0 {
		s.h.unlock(user, s.c.ID())
		if !s.h.leases {
			return
		}
		// OnClose calls this on the event loop, which must not wait for
		// the store: the lease goes back from a goroutine of its own.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s.h.releaseLease(ctx, user, s.c.ID())
		}()
	}
}
