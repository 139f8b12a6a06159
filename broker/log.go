package broker

import "github.com/rs/zerolog"

// zlog adapts zerolog to nats-server's Logger interface.
type zlog struct{ l zerolog.Logger }

func (z zlog) Noticef(format string, v ...any) { z.l.Info().Msgf(format, v...) }
func (z zlog) Warnf(format string, v ...any)   { z.l.Warn().Msgf(format, v...) }
func (z zlog) Fatalf(format string, v ...any)  { z.l.Error().Bool("fatal", true).Msgf(format, v...) }
func (z zlog) Errorf(format string, v ...any)  { z.l.Error().Msgf(format, v...) }
func (z zlog) Debugf(format string, v ...any)  { z.l.Debug().Msgf(format, v...) }
func (z zlog) Tracef(format string, v ...any)  { z.l.Trace().Msgf(format, v...) }
