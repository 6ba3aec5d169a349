package store

import "sync"

// nameKey names a row of a lookup table (projects, users, consumer_types)
// by its external name.
type nameKey struct{ table, name string }

// nameCache remembers the ids of lookup-table rows. Those rows are never
// deleted or renamed, so an id seen in a committed transaction stays true;
// ids first seen in a transaction are cached only when it commits (a
// rolled-back insert must not leave an id behind). It saves claims two to
// six queries each.
type nameCache struct {
	mu  sync.RWMutex
	ids map[nameKey]int64
}

// maxCachedNames bounds the cache (a cloud has far fewer projects and
// users); past it the cache is simply cleared.
const maxCachedNames = 100000

func (c *nameCache) get(k nameKey) (int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, ok := c.ids[k]
	return id, ok
}

func (c *nameCache) addAll(m map[nameKey]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil || len(c.ids)+len(m) > maxCachedNames {
		c.ids = make(map[nameKey]int64, len(m))
	}
	for k, id := range m {
		c.ids[k] = id
	}
}

// rememberName records an id the transaction saw, for the store's cache
// once the transaction commits.
func (t *Tx) rememberName(k nameKey, id int64) {
	if t.names == nil {
		t.names = map[nameKey]int64{}
	}
	t.names[k] = id
}

// lockRowsOf returns the clause that locks, until the end of this write
// transaction, the rows of the table aliased alias that a query returns
// ("" in a read transaction, and on SQLite, whose writer holds the file).
func (t *Tx) lockRowsOf(alias string) string {
	if t.readOnly {
		return ""
	}
	return t.s.d.forUpdateOf(alias)
}
