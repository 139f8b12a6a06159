package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("zyx config")

// Config tunes one Zyx instance.
type Config struct {
	// RecentPosts is how many post references each user record carries, newest first. A timeline
	// reads at most this many per followee; older posts are not on timelines.
	RecentPosts int
	// MaxFollowing caps the users one user follows, and so the lookups of one timeline read:
	// 1 + MaxFollowing + TimelineMax.
	MaxFollowing int
	// TimelineDefault and TimelineMax are the default and largest number of posts a timeline
	// returns (?limit=).
	TimelineDefault, TimelineMax int
	// LookupParallel bounds the lookups one timeline read has in flight at once.
	LookupParallel int
	// MaxPostLen and MaxNameLen bound a post's text and a user's display name, in bytes.
	MaxPostLen, MaxNameLen int
	// RequestTimeout bounds the FeDist work (lookups, requests) one HTTP call or one region request
	// does.
	RequestTimeout time.Duration
	// Notify tunes how committed writes are announced to FeDist (client.Changed).
	Notify NotifyConfig
	// Now gives the time records are stamped with; nil means time.Now.
	Now func() time.Time
	// Log receives the instance's logs.
	Log zerolog.Logger
}

// NotifyConfig tunes the background announcements of committed writes.
type NotifyConfig struct {
	// Workers is how many announcements are in flight at once.
	Workers int
	// Attempts is how many times one announcement is tried before it is logged and dropped.
	Attempts int
	// Backoff is the pause after the first failed attempt; it doubles per attempt, up to MaxBackoff,
	// with up to 50% random jitter.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
	// MaxPending bounds the records waiting to be announced; past it the oldest is dropped, logged.
	MaxPending int
}

// DefaultConfig returns the settings of the example deployment.
func DefaultConfig(log zerolog.Logger) Config {
	return Config{
		RecentPosts:     20,              // a timeline of 20 needs no more from any one followee
		MaxFollowing:    200,             // a timeline read stays at a few hundred lookups at worst
		TimelineDefault: 20,              // one screen
		TimelineMax:     100,             // one timeline read looks up at most this many posts
		LookupParallel:  8,               // enough to hide WAN round trips, few enough to spare the owner regions
		MaxPostLen:      500,             // a short post
		MaxNameLen:      100,             // a display name
		RequestTimeout:  5 * time.Second, // several WAN round trips; an HTTP client waits no longer
		Notify:          DefaultNotifyConfig(),
		Log:             log,
	}
}

// DefaultNotifyConfig returns announcement settings that ride out a node restart.
func DefaultNotifyConfig() NotifyConfig {
	return NotifyConfig{
		Workers:    4,                      // a slow node delays a few records, not all
		Attempts:   6,                      // 0.2+0.4+0.8+1.6+3.2 s: about 6 s of retries in all
		Backoff:    200 * time.Millisecond, // a node that just restarted is usually back
		MaxBackoff: 5 * time.Second,        // never wait longer between two attempts
		Timeout:    2 * time.Second,        // one round trip to the own region's node
		MaxPending: 10000,                  // about a few MB of record values at most
	}
}

// Validate checks the config.
func (c Config) Validate() error {
	switch {
	case c.RecentPosts <= 0, c.MaxFollowing <= 0, c.LookupParallel <= 0, c.MaxPostLen <= 0, c.MaxNameLen <= 0:
		return fmt.Errorf("%w: RecentPosts, MaxFollowing, LookupParallel, MaxPostLen and MaxNameLen must be positive", ErrConfig)
	case c.TimelineDefault <= 0 || c.TimelineMax < c.TimelineDefault:
		return fmt.Errorf("%w: want 0 < TimelineDefault (%d) <= TimelineMax (%d)", ErrConfig, c.TimelineDefault, c.TimelineMax)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("%w: RequestTimeout must be positive", ErrConfig)
	}
	return c.Notify.Validate()
}

// Validate checks the config.
func (c NotifyConfig) Validate() error {
	if c.Workers <= 0 || c.Attempts <= 0 || c.Backoff <= 0 || c.MaxBackoff < c.Backoff || c.Timeout <= 0 || c.MaxPending <= 0 {
		return fmt.Errorf("%w: notify: Workers, Attempts, Backoff, Timeout, MaxPending must be positive and MaxBackoff >= Backoff", ErrConfig)
	}
	return nil
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
