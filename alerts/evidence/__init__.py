"""Evidence (kitchens.md, Evidence): the one room that stores, hashes, serves and expires
the files a case rests on. Vision decides which frames become evidence; this package keeps
them, as it keeps what people upload to close a case (rectification files, ticket photos
and reports).

- `files`: uploads recognised by their first bytes, atomic writes, SHA-256, reads checked
  against the recorded hash (`TamperedFile`, `MissingFile`).
- `records`: the `evidence` table: saving a violation's frame with its boxes, scores,
  track ids, model, zone and rule; linking it to its alert; its URL; reading a record and
  its checked bytes for serving; the retention the review desk sets.
- `annotation`: the annotated copy (boxes, labels and scores drawn with OpenCV), made on
  demand and never stored.
- `retention`: the periodic sweep of expired evidence and archived frame days.

May import: psycopg, numpy, OpenCV, the standard library. The review desk, tickets, vision,
the API and the shell call into this room; it calls none of them.
"""
