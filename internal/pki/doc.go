// Package pki is FeDist's certificate authority: it issues the certificates of nodes and
// application users, builds the TLS configs that use them, and signs and verifies control messages
// with them.
//
// # Why certificates
//
// One artifact per node does two jobs. It gives mutual TLS on every server-to-server link (leafnode
// links between regions, cluster routes inside a region), and it gives a verifiable identity to a
// message that crosses several NATS hops: a join request that reaches the root through three
// regions says, with a signature the root can check, which node of which region sent it. NATS's own
// nkeys and JWTs could do the second, but only in operator mode with an account resolver, which
// FeDist does not run. The model is `cockroach cert`: one CA directory, one command per certificate.
//
// # Identity
//
// A node certificate has CN fd-<rrrr>-<node> (the node's nats-server name), OU fedist-node, the URI
// SAN fedist://region/<rrrr>/node/<node>, the DNS and IP SANs of its hosts, and the extended key
// usages server and client authentication. An application user's certificate has CN <user>, OU
// fedist-app, the URI SAN fedist://region/<rrrr>/user/<user> and client authentication only. The
// URI SAN is the identity; IdentityOf accepts a certificate only if it has exactly one fedist URI,
// in canonical form, and CN and OU agree with it. Node names are 1 to 56 ASCII letters, digits, '-'
// and '_' (stricter than the broker, so they are safe in a URI, a file name and the 64-byte CN).
// Keys are ECDSA P-256; serials are random 128-bit numbers; the CA can sign leaves only.
//
// # Envelope
//
// Signer.Sign wraps a payload in JSON:
//
//	{"v":1,"cert":<base64 DER leaf>,"ts":<Unix ns>,"nonce":<base64 16 bytes>,"payload":<base64>,"sig":<base64>}
//
// The ECDSA signature covers a SHA-256 over a domain tag, the NATS subject, the certificate's hash,
// ts, the nonce and the payload, so an envelope signed for one subject does not verify on another.
// Verifier.Verify accepts it only if the certificate chains to the CA for client authentication
// and is a node's (a user's certificate is refused with ErrNotNode), ts lies within MaxSkew of now,
// the signature holds, and the nonce is new. Nonces are kept in a bounded cache for as long as
// their envelope would be fresh; when the cache is full Verify refuses rather than forgets.
//
// # What it does not do
//
// There is no revocation yet: no CRL, no OCSP. A stolen node key is trusted until its certificate
// expires or the whole CA is replaced, so keep validities short and ca.key off the nodes. Nothing
// is renewed automatically, and existing files are never overwritten. Verify checks who signed;
// whether that node may do what the payload asks (for instance join as region <rrrr>) is the
// caller's decision, made by comparing Identity.Region with the request.
package pki
