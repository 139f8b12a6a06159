package store

import (
	"encoding/json"
	"time"

	"github.com/fedist/fedist/regions"
)

// User is a user record, as stored, served to other regions and returned by the HTTP API.
type User struct {
	ID      regions.ID
	Handle  string // local@region-name, the name of the region where the handle was created
	Name    string
	Created time.Time
	// Origin is the ID this user had before moving here; zero for a user created here.
	Origin regions.ID
	// MovedTo is the user's ID after moving away; zero while the user lives here.
	MovedTo regions.ID
	// Following holds the IDs of the users this user follows, oldest follow first.
	Following []regions.ID
	// Recent references the user's latest posts, newest first, at most the store's recent limit.
	Recent []Ref
}

// Ref references a post and says when it was written, so that a timeline can pick the newest posts
// of many users before it looks any of them up.
type Ref struct {
	ID regions.ID
	At time.Time
}

// Post is a post record. Author is the author's ID when the post was written; it forwards if the
// author moved since.
type Post struct {
	ID     regions.ID
	Author regions.ID
	Text   string
	At     time.Time
}

// hexID is a regions.ID that encodes as its 16 hex digits; zero encodes as "" or, with omitempty,
// not at all.
type hexID regions.ID

func (id hexID) MarshalText() ([]byte, error) {
	if id == 0 {
		return nil, nil
	}
	return []byte(regions.ID(id).String()), nil
}

// UnmarshalText takes a valid ID, or "" for zero (a record that lacks one is refused by the caller).
func (id *hexID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*id = 0
		return nil
	}
	v, err := regions.ParseID(string(b))
	*id = hexID(v)
	return err
}

type userJSON struct {
	ID        hexID     `json:"id"`
	Handle    string    `json:"handle"`
	Name      string    `json:"name"`
	Created   time.Time `json:"created"`
	Origin    hexID     `json:"origin,omitempty"`
	MovedTo   hexID     `json:"moved_to,omitempty"`
	Following []hexID   `json:"following"`
	Recent    []refJSON `json:"recent"`
}

type refJSON struct {
	ID hexID     `json:"id"`
	At time.Time `json:"at"`
}

type postJSON struct {
	ID     hexID     `json:"id"`
	Author hexID     `json:"author"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// MarshalJSON encodes IDs as hex strings.
func (u User) MarshalJSON() ([]byte, error) {
	w := userJSON{ID: hexID(u.ID), Handle: u.Handle, Name: u.Name, Created: u.Created,
		Origin: hexID(u.Origin), MovedTo: hexID(u.MovedTo), Following: []hexID{}, Recent: []refJSON{}}
	for _, f := range u.Following {
		w.Following = append(w.Following, hexID(f))
	}
	for _, r := range u.Recent {
		w.Recent = append(w.Recent, refJSON{hexID(r.ID), r.At})
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes what MarshalJSON wrote; every ID must be valid.
func (u *User) UnmarshalJSON(b []byte) error {
	var w userJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = User{ID: regions.ID(w.ID), Handle: w.Handle, Name: w.Name, Created: w.Created,
		Origin: regions.ID(w.Origin), MovedTo: regions.ID(w.MovedTo)}
	for _, f := range w.Following {
		u.Following = append(u.Following, regions.ID(f))
	}
	for _, r := range w.Recent {
		u.Recent = append(u.Recent, Ref{regions.ID(r.ID), r.At})
	}
	return nil
}

// MarshalJSON encodes IDs as hex strings.
func (p Post) MarshalJSON() ([]byte, error) {
	return json.Marshal(postJSON{hexID(p.ID), hexID(p.Author), p.Text, p.At})
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (p *Post) UnmarshalJSON(b []byte) error {
	var w postJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = Post{regions.ID(w.ID), regions.ID(w.Author), w.Text, w.At}
	return nil
}
