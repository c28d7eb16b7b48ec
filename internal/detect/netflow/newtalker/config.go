package newtalker

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// Asset is a sensitive address or range, with an optional name and role
// (from the configuration now, from the asset inventory later).
type Asset struct {
	// Address is an address or a CIDR; every address in a CIDR is its own
	// asset.
	Address string `yaml:"address"`
	// Name and Role describe the asset in signals ("dc01",
	// "domain_controller").
	Name string `yaml:"name"`
	Role string `yaml:"role"`
}

// Config tunes the new-talker detector. Durations are written as "168h".
type Config struct {
	// Learning is how long each sensitive asset is observed, from its first
	// record, before first-seen pairs and services are signalled. Default
	// 168h (7 days).
	Learning time.Duration `yaml:"learning"`
	// Sensitive lists the sensitive assets. Without any the analyzer does
	// nothing.
	Sensitive []Asset `yaml:"sensitive"`
	// AdminPorts are the remote-administration ports that raise the
	// severity. Default 22, 23, 135, 445, 3389, 5900, 5985, 5986.
	AdminPorts []uint16 `yaml:"admin_ports"`
	// DynamicPortMin is the first port of the dynamic range: ports at or
	// above it count as one "dynamic" service (RPC endpoints, passive FTP).
	// 0 turns this off. Default 49152.
	DynamicPortMin uint16 `yaml:"dynamic_port_min"`
	// NewServiceGrace is how long after a new service was signalled its
	// further first-seen peers are not signalled one by one. Default 24h.
	NewServiceGrace time.Duration `yaml:"new_service_grace"`
	// MaxPairsPerAsset caps the peers remembered per asset; beyond it the
	// least recently seen eighth is forgotten and counted. Default 20,000.
	MaxPairsPerAsset int `yaml:"max_pairs_per_asset"`
	// MaxServicesPerAsset caps the services remembered per asset, the same
	// way. Default 2,048.
	MaxServicesPerAsset int `yaml:"max_services_per_asset"`
	// MaxAssets caps the sensitive addresses tracked; records of further
	// ones are counted and ignored. Default 10,000.
	MaxAssets int `yaml:"max_assets"`
}

// DefaultAdminPorts returns the default remote-administration ports.
func DefaultAdminPorts() []uint16 { return []uint16{22, 23, 135, 445, 3389, 5900, 5985, 5986} }

// DefaultConfig returns the defaults documented on Config, without any
// sensitive asset.
func DefaultConfig() Config {
	return Config{
		Learning:            7 * 24 * time.Hour,
		AdminPorts:          DefaultAdminPorts(),
		DynamicPortMin:      49152,
		NewServiceGrace:     24 * time.Hour,
		MaxPairsPerAsset:    20_000,
		MaxServicesPerAsset: 2048,
		MaxAssets:           10_000,
	}
}

// Validate reports every bad value.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Learning < 0 {
		bad("learning %v is negative", c.Learning)
	}
	for i, a := range c.Sensitive {
		if _, err := flow.ParsePrefix(a.Address); err != nil {
			bad("sensitive[%d] (%s): %w", i, a.Name, err)
		}
	}
	if slices.Contains(c.AdminPorts, 0) {
		bad("admin_ports lists port 0")
	}
	if c.DynamicPortMin != 0 && c.DynamicPortMin < 1024 {
		bad("dynamic_port_min %d is below 1024", c.DynamicPortMin)
	}
	if c.NewServiceGrace < 0 {
		bad("new_service_grace %v is negative", c.NewServiceGrace)
	}
	if c.MaxPairsPerAsset < 8 {
		bad("max_pairs_per_asset %d is below 8", c.MaxPairsPerAsset)
	}
	if c.MaxServicesPerAsset < 8 {
		bad("max_services_per_asset %d is below 8", c.MaxServicesPerAsset)
	}
	if c.MaxAssets < 1 {
		bad("max_assets %d is below 1", c.MaxAssets)
	}
	if len(errs) > 0 {
		return fmt.Errorf("new talker config: %w", errors.Join(errs...))
	}
	return nil
}
