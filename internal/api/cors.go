package api

// CORSOptions are oslo.middleware's [cors] section. CORS is off when
// AllowedOrigin is empty.
type CORSOptions struct {
	AllowedOrigin    []string
	AllowCredentials bool
	ExposeHeaders    []string
	MaxAge           int
	AllowMethods     []string
	AllowHeaders     []string
}
