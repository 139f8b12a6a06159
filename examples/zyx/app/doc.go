// Package app implements Zyx, FeDist's reference application: a small social network (users,
// posts, follows, home timelines) that runs one instance per region, each a FeDist client of its
// region's node and the keeper of its region's records in SQLite (package store).
//
// An instance serves lookups of its region's "user" and "post" records (JSON) and answers two
// kinds of region requests: handle resolution, fd.<r>.zyx.handle.<local>, and the two steps of a
// move, fd.<r>.zyx.move and fd.<r>.zyx.rehandle. Everything else it needs from another region it
// looks up by ID through FeDist (client.Lookup, client.LookupKey), never caring where a record
// lives or whether a replica answers.
//
// Invariants:
//   - A record's ID never changes owner: a user who moves gets a new ID from the target region; the
//     old ID forwards to it (client.Moved), and the old region refuses further writes to it.
//   - Posts keep their IDs when their author moves: posts written before a move are still served by
//     the old region, and the moved user's record references the latest of them.
//   - A handle local@name is resolved by the instance of the region whose registry name is name,
//     for ever; that instance's directory maps it to the user's current ID.
//   - A write is committed to SQLite before FeDist hears of it (client.Changed), and a failure to
//     tell FeDist never fails or undoes the write: the notifier retries in the background.
//
// It does not authenticate anyone: any HTTP caller may act as any user. It does not page
// timelines beyond the latest posts each user record references.
package app
