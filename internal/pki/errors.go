package pki

import "errors"

var (
	// ErrExists is returned when a file that would be written already exists. Nothing is overwritten:
	// remove the old files first to reissue.
	ErrExists = errors.New("file already exists")
	// ErrBadName is returned for a node or user name that cannot be encoded in a certificate.
	ErrBadName = errors.New("bad name")
	// ErrBadHost is returned for a host that is neither an IP address nor a DNS name.
	ErrBadHost = errors.New("bad host")
	// ErrBadValidity is returned for a validity that is not positive, or a CA that has expired.
	ErrBadValidity = errors.New("bad validity")
	// ErrBadPEM is returned for a certificate or key file that does not hold what it should.
	ErrBadPEM = errors.New("bad PEM file")
	// ErrNoIdentity is returned for a certificate that carries no FeDist identity, or an inconsistent one.
	ErrNoIdentity = errors.New("no FeDist identity")
	// ErrNotNode is returned where a node identity is required and a user identity was presented.
	// It always comes wrapped together with ErrUntrusted.
	ErrNotNode = errors.New("not a node identity")

	// ErrMalformed is returned for an envelope that does not decode.
	ErrMalformed = errors.New("malformed envelope")
	// ErrUntrusted is returned for an envelope whose certificate does not chain to the roots, has
	// expired, or does not name a node.
	ErrUntrusted = errors.New("untrusted certificate")
	// ErrBadSignature is returned for an envelope whose signature does not cover this subject, time,
	// nonce and payload.
	ErrBadSignature = errors.New("bad signature")
	// ErrStale is returned for an envelope whose timestamp is further from now than MaxSkew.
	ErrStale = errors.New("stale envelope")
	// ErrReplay is returned for an envelope whose nonce was seen before, or when the replay cache is
	// full and the envelope can therefore not be checked.
	ErrReplay = errors.New("replayed envelope")
)
