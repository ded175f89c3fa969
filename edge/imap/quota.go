package imap

import (
	"context"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// The user's one quota root is "" (RFC 9208); it has a STORAGE resource
// when the user has a limit.
func quotaResources(q engine.Quota) []imap.QuotaResource {
	return []imap.QuotaResource{{Name: "STORAGE", Usage: uint64((q.Used + 1023) / 1024), Limit: uint64(q.Limit / 1024)}}
}

func (s *session) cmdGetQuotaRoot(ctx context.Context, a *imap.GetQuotaRootCommand) status {
	mb, err := s.e.Mailbox(ctx, s.user.ID, a.Mailbox)
	if err != nil {
		return s.storeError(ctx, "getquotaroot", err)
	}
	q, err := s.e.Quota(ctx, s.user.ID)
	if err != nil {
		return s.storeError(ctx, "getquotaroot", err)
	}
	if q.Limit <= 0 {
		s.w.QuotaRoot(mb.Name)
		return ok("GETQUOTAROOT completed")
	}
	s.w.QuotaRoot(mb.Name, "")
	s.w.Quota("", quotaResources(q))
	return ok("GETQUOTAROOT completed")
}

func (s *session) cmdGetQuota(ctx context.Context, a *imap.GetQuotaCommand) status {
	if a.Root != "" {
		return no(imap.CodeNonExistent, "no such quota root")
	}
	q, err := s.e.Quota(ctx, s.user.ID)
	if err != nil {
		return s.storeError(ctx, "getquota", err)
	}
	if q.Limit <= 0 {
		return no(imap.CodeNonExistent, "no quota is set")
	}
	s.w.Quota("", quotaResources(q))
	return ok("GETQUOTA completed")
}
