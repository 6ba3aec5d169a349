package api

import (
	"encoding/hex"
	"math/rand/v2"
	"sync"
)

// newRequestID returns "req-" and a random version-4 UUID. It draws from a
// ChaCha8 generator seeded from the operating system once, instead of
// reading the system's random source on every request; request ids need to
// be unique, not secret.
func newRequestID() string {
	var b [16]byte
	idMu.Lock()
	idGen.Read(b[:])
	idMu.Unlock()
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [40]byte
	copy(out[:], "req-")
	hex.Encode(out[4:12], b[0:4])
	out[12] = '-'
	hex.Encode(out[13:17], b[4:6])
	out[17] = '-'
	hex.Encode(out[18:22], b[6:8])
	out[22] = '-'
	hex.Encode(out[23:27], b[8:10])
	out[27] = '-'
	hex.Encode(out[28:40], b[10:16])
	return string(out[:])
}

var (
	idMu  sync.Mutex
	idGen = newIDGen()
)

func newIDGen() *rand.ChaCha8 {
	var seed [32]byte
	for i := 0; i < 4; i++ {
		v := rand.Uint64() // seeded by the runtime from the OS
		for j := 0; j < 8; j++ {
			seed[i*8+j] = byte(v >> (8 * j))
		}
	}
	return rand.NewChaCha8(seed)
}
