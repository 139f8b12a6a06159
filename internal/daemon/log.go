package daemon

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// NewLogger returns the FeDist logger: console text on w unless asJSON.
func NewLogger(w io.Writer, level string, asJSON bool) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Nop(), fmt.Errorf("-log-level %q: %v", level, err)
	}
	if w == nil {
		w = os.Stderr
	}
	if !asJSON {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}
