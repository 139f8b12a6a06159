package daemon

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
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
		f, isFile := w.(*os.File)
		color := isFile && isatty.IsTerminal(f.Fd())
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !color}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}
