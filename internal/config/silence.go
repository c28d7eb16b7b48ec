package config

// SilenceConfig configures the detection of log sources that went silent
// or dropped in volume.
type SilenceConfig struct {
	Enabled bool `yaml:"enabled"`
}
