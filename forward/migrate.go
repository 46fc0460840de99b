package forward

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Until the log, a spool was a bbolt file at the spool's path: key a
// sequence number, value a record (storedHeader, then the event's JSON) or,
// earlier still, {"q": <ms>, "e": <event>}. Such a file is moved into the
// log the first time the spool is opened, so an upgrade loses nothing.
var bucketEvents = []byte("events")

type legacyRecord struct {
	Queued int64           `json:"q"`
	Event  json.RawMessage `json:"e"`
}

// openMigrating opens the log in dir, first moving the events of a bbolt
// spool at path into it when there is one.
func openMigrating(path, dir string) (*Spool, error) {
	if _, err := os.Stat(path); err != nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating the spool directory: %w", err)
		}
		return openLog(path, dir)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("spool %s is in use by another process; give each Caddy its own spool directory", path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the earlier version's spool %s: %w", path, err)
	}
	defer db.Close() // holds the old file's lock until the log holds its own
	if _, err := os.Stat(dir); err != nil {
		if err := importBolt(db, path, dir); err != nil {
			return nil, err
		}
	}
	s, err := openLog(path, dir)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil {
		s.Close()
		return nil, fmt.Errorf("removing the earlier version's spool %s (its events are in %s): %w", path, dir, err)
	}
	return s, nil
}

// importBolt writes the events of a bbolt spool into a new log, built
// beside dir and renamed to it once complete: a crash part way leaves the
// old file as it was, to be imported again.
func importBolt(db *bolt.DB, path, dir string) error {
	tmp := dir + ".importing"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("creating the spool directory: %w", err)
	}
	s, err := openLog(path, tmp)
	if err != nil {
		return err
	}
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		if b == nil {
			return nil
		}
		var chunk [][]byte
		err := b.ForEach(func(_, v []byte) error {
			if r := legacyValue(v); r != nil {
				chunk = append(chunk, r)
			}
			if len(chunk) < 1000 {
				return nil
			}
			err := s.appendStored(chunk, nil, nil)
			chunk = chunk[:0]
			return err
		})
		if err == nil {
			err = s.appendStored(chunk, nil, nil)
		}
		return err
	})
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("moving the earlier version's spool %s into %s: %w", path, dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// legacyValue returns the record of a bbolt value (which bbolt owns: the
// record is a copy), or nil for a value that cannot be read.
func legacyValue(v []byte) []byte {
	if len(v) > 0 && v[0] == '{' {
		var old legacyRecord
		if json.Unmarshal(v, &old) != nil || len(old.Event) == 0 {
			return nil
		}
		return storedRecord(time.UnixMilli(old.Queued), old.Event)
	}
	if len(v) <= storedHeader {
		return nil
	}
	r := storedRecord(time.UnixMilli(int64(binary.BigEndian.Uint64(v))), v[storedHeader:])
	return r
}
