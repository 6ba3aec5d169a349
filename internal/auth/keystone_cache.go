package auth

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// tokenKey identifies a token in the cache: its SHA-256, so that no token is
// kept in memory by the cache or written to a log.
type tokenKey [sha256.Size]byte

func keyOf(token string) tokenKey { return sha256.Sum256([]byte(token)) }

// short is the key's first 8 hex digits, for log lines.
func (k tokenKey) short() string { return hex.EncodeToString(k[:4]) }

// tokenCache is a bounded cache of validation results, least recently used
// first out. Every entry has its own deadline (the cache time, and for a
// valid token never past its expiry); an entry past it is a miss.
type tokenCache struct {
	mu      sync.Mutex
	max     int
	entries map[tokenKey]*list.Element
	order   list.List // front: most recently used
}

type cacheEntry struct {
	key   tokenKey
	info  *tokenInfo
	until time.Time
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, entries: make(map[tokenKey]*list.Element)}
}

// get returns the entry of key still valid at now.
func (c *tokenCache) get(key tokenKey, now time.Time) (*tokenInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.until) {
		c.order.Remove(el)
		delete(c.entries, key)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.info, true
}

// put stores info under key until the given time, evicting the least
// recently used entry when the cache is full.
func (c *tokenCache) put(key tokenKey, info *tokenInfo, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry)
		e.info, e.until = info, until
		c.order.MoveToFront(el)
		return
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, info: info, until: until})
	for len(c.entries) > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*cacheEntry).key)
	}
}

// len is the number of entries (expired ones included until looked up or
// evicted).
func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
