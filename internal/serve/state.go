package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"oktasync/internal/connector"
)

// StateFile is the service's own configuration: what the API changes (the
// connection, the table settings), the sealed credentials and the API
// keys' hashes. Sync state and run history live in the destination.
type StateFile struct {
	// Connection is nil until the service first starts, which fills it
	// from the config file.
	Connection  *Connection                      `json:"connection,omitempty"`
	Credentials *SealedSecret                    `json:"credentials,omitempty"`
	Keys        []APIKey                         `json:"keys"`
	Tables      map[string]connector.TableConfig `json:"tables,omitempty"`
}

// Connection is the connection's settings the API manages.
type Connection struct {
	OrgURL               string `json:"org_url"`
	AuthType             string `json:"auth_type"`
	SyncFrequency        int    `json:"sync_frequency_minutes"`
	Paused               bool   `json:"paused"`
	SchemaChangeHandling string `json:"schema_change_handling"`
}

// store reads and writes the state file; every change is written before
// it is acknowledged, through a temporary file renamed over the old one so
// that a crash leaves one or the other.
type store struct {
	path string
	mu   sync.Mutex
	st   StateFile
}

// openStore reads the state file at path; a missing file is an empty state.
func openStore(path string) (*store, error) {
	s := &store{path: path}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *store) reload() error {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		s.st = StateFile{}
		return nil
	}
	if err != nil {
		return err
	}
	var st StateFile
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}") // made by touch, or emptied: a new service
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("state file %s: %w (the file is the service's; restore it from a backup, or move it away to start anew)", s.path, err)
	}
	s.st = st
	return nil
}

// update applies change to a copy of the state and writes it; on any
// error (change's or the write's) the state stays as it was.
func (s *store) update(change func(st *StateFile) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Keys made or revoked by another process since are kept as they are.
	s.refreshKeys()
	st := s.st.clone()
	if err := change(&st); err != nil {
		return err
	}
	if err := writeFileAtomic(s.path, st); err != nil {
		return fmt.Errorf("write state file %s: %w", s.path, err)
	}
	s.st = st
	return nil
}

// get returns a copy of the state.
func (s *store) get() StateFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.clone()
}

// keys returns the API keys, reading the file again when another process
// (serve --create-key) changed it.
func (s *store) keys() []APIKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshKeys()
	return append([]APIKey(nil), s.st.Keys...)
}

// refreshKeys takes the keys from the file, which another process (serve
// --create-key, --revoke-key) may have changed. It reads the file every
// time: a few KB, and a file's time stamp can miss two writes in one clock
// tick. Called with mu held.
func (s *store) refreshKeys() {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return
	}
	var st StateFile
	if json.Unmarshal(data, &st) == nil {
		s.st.Keys = st.Keys
	}
}

func writeFileAtomic(path string, st StateFile) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	// The file holds key hashes and sealed credentials: for its owner only.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (st StateFile) clone() StateFile {
	out := st
	if st.Connection != nil {
		c := *st.Connection
		out.Connection = &c
	}
	if st.Credentials != nil {
		c := *st.Credentials
		out.Credentials = &c
	}
	out.Keys = append([]APIKey(nil), st.Keys...)
	out.Tables = cloneTables(st.Tables)
	return out
}

// cloneTables copies table settings deeply: the state's copies are changed
// in place by the API.
func cloneTables(in map[string]connector.TableConfig) map[string]connector.TableConfig {
	if in == nil {
		return nil
	}
	out := make(map[string]connector.TableConfig, len(in))
	for name, t := range in {
		c := t
		if t.Enabled != nil {
			v := *t.Enabled
			c.Enabled = &v
		}
		if t.Columns != nil {
			c.Columns = make(map[string]connector.ColumnConfig, len(t.Columns))
			for cn, col := range t.Columns {
				if col.Enabled != nil {
					v := *col.Enabled
					col.Enabled = &v
				}
				c.Columns[cn] = col
			}
		}
		out[name] = c
	}
	return out
}
