package broker

import (
	"fmt"
	"strings"
	"sync"

	"github.com/rs/zerolog"
)

// zlog adapts zerolog to nats-server's Logger interface. It remembers the last fatal message, since
// nats-server reports a failed start (e.g. a JetStream misconfiguration) only through its log.
type zlog struct {
	l     zerolog.Logger
	mu    sync.Mutex // guards fatal
	fatal string
}

func (z *zlog) Noticef(format string, v ...any) { z.l.Info().Msgf(format, v...) }
func (z *zlog) Warnf(format string, v ...any) {
	if format == plaintextWarning {
		// The app user has no password by design (clients connect without credentials and are
		// assigned it), and the internal user's is random per process; nothing to act on.
		z.l.Debug().Msg(format)
		return
	}
	z.l.Warn().Msgf(format, v...)
}

const plaintextWarning = "Plaintext passwords detected, use nkeys or bcrypt"

func (z *zlog) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	z.l.Error().Msg(msg)
	if strings.Contains(msg, wrongPortError) {
		// nats-server's words for a leafnode remote that reached some other listener, most often
		// the parent's client port.
		z.l.Warn().Msg("the parent URL (-parent) reaches a port that is not a leafnode listener, perhaps the parent's client port: use the port of the parent's -leaf-listen")
	}
}

const wrongPortError = "attempted to connect to wrong port"

func (z *zlog) Debugf(format string, v ...any) { z.l.Debug().Msgf(format, v...) }
func (z *zlog) Tracef(format string, v ...any) { z.l.Trace().Msgf(format, v...) }

func (z *zlog) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	z.mu.Lock()
	z.fatal = msg
	z.mu.Unlock()
	z.l.Error().Bool("fatal", true).Msg(msg)
}

func (z *zlog) lastFatal() string {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.fatal
}
