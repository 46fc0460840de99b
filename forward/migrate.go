package forward

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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
	s, err := migrate(db, path, dir)
	if cerr := db.Close(); err == nil && cerr != nil {
		s.Close()
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.Close()
		return nil, fmt.Errorf("removing the earlier version's spool %s (its events are in %s): %w", path, dir, err)
	}
	return s, nil
}

// migrate moves the events of the open bbolt spool db into the log in dir
// and returns the log, open. A log made from it before (a crash came
// between the move and the removal of the old file) is recognised by the
// mark it left, which names what it was made from; a log that does not
// carry the mark of this file (an earlier version ran again after an
// upgrade, and wrote a new one) gets its events added.
func migrate(db *bolt.DB, path, dir string) (*Spool, error) {
	mark, err := boltMark(db)
	if err != nil {
		return nil, fmt.Errorf("reading the earlier version's spool %s: %w", path, err)
	}
	if _, err := os.Stat(dir); err != nil {
		if err := importFresh(db, path, dir, mark); err != nil {
			return nil, err
		}
	}
	s, err := openLog(path, dir)
	if err != nil {
		return nil, err
	}
	if done, _ := os.ReadFile(filepath.Join(dir, markFile)); string(done) == mark {
		return s, nil
	}
	if err := importInto(db, s); err != nil {
		s.Close()
		return nil, fmt.Errorf("moving the earlier version's spool %s into %s: %w", path, dir, err)
	}
	if err := writeMark(dir, mark); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// markFile, in a log, names the bbolt spool whose events were moved into it.
const markFile = "imported-from-bbolt"

// boltMark names a bbolt spool by its number of records and its first and
// last keys.
func boltMark(db *bolt.DB) (string, error) {
	var mark string
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		if b == nil {
			mark = "empty"
			return nil
		}
		c := b.Cursor()
		first, _ := c.First()
		last, _ := c.Last()
		mark = fmt.Sprintf("%d %x %x", b.Stats().KeyN, first, last)
		return nil
	})
	return mark, err
}

// writeMark leaves the mark of an imported bbolt spool in dir, durably.
func writeMark(dir, mark string) error {
	f, err := os.OpenFile(filepath.Join(dir, markFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(mark); err != nil {
		f.Close()
		return err
	}
	return syncAndClose(f)
}

// importFresh writes the events of a bbolt spool into a new log, built
// beside dir and renamed to it once complete, with its mark: a crash part
// way leaves the old file as it was, to be imported again.
func importFresh(db *bolt.DB, path, dir, mark string) error {
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
	err = importInto(db, s)
	if err == nil {
		err = writeMark(tmp, mark)
	}
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

// importInto appends the events of a bbolt spool to s, in order, a
// thousand per write.
func importInto(db *bolt.DB, s *Spool) error {
	return db.View(func(tx *bolt.Tx) error {
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
			err := s.appendStored(chunk, nil, nil, true)
			chunk = chunk[:0]
			return err
		})
		if err == nil {
			err = s.appendStored(chunk, nil, nil, true)
		}
		return err
	})
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
