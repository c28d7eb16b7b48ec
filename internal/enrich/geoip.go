// Package enrich adds context to events as they are ingested: the asset
// inventory's entry for the event's host and for its source and
// destination addresses (host.asset.*, source.asset.*,
// destination.asset.*), and for external addresses the country, city and
// autonomous system from user-supplied MaxMind databases (source.geo.*,
// source.as.*, destination.geo.*, destination.as.*).
package enrich

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/vigil-soc/vigil/internal/schema"
)

// GeoIP looks up addresses in MaxMind DB files: a City or Country database
// (GeoIP2, GeoLite2 or a compatible one such as DB-IP's) for the location,
// and an ASN database for the autonomous system. Either may be absent. It
// is safe for concurrent use.
type GeoIP struct {
	geo, asn *maxminddb.Reader
}

// GeoResult is what GeoIP knows about one address.
type GeoResult struct {
	Geo schema.Geo
	AS  schema.AS
}

// OpenGeoIP opens the location database at geoPath and the ASN database at
// asnPath; an empty path leaves that database out, but at least one is
// needed. It checks that each file is a MaxMind DB of the right kind.
func OpenGeoIP(geoPath, asnPath string) (*GeoIP, error) {
	if geoPath == "" && asnPath == "" {
		return nil, errors.New("enrich: GeoIP needs a City/Country database, an ASN database, or both")
	}
	g := &GeoIP{}
	var err error
	if geoPath != "" {
		if g.geo, err = openMMDB(geoPath, "location", func(t string) bool { return !strings.Contains(t, "ASN") }); err != nil {
			return nil, err
		}
	}
	if asnPath != "" {
		g.asn, err = openMMDB(asnPath, "ASN", func(t string) bool { return strings.Contains(t, "ASN") || strings.Contains(t, "ISP") })
		if err != nil {
			_ = g.Close() // the open error is the one to report
			return nil, err
		}
	}
	return g, nil
}

// openMMDB opens one database and checks its type with ok.
func openMMDB(path, kind string, ok func(dbType string) bool) (*maxminddb.Reader, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("enrich: open %s database %s: %w", kind, path, err)
	}
	if t := r.Metadata.DatabaseType; !ok(strings.ToUpper(t)) {
		_ = r.Close() // the type error is the one to report
		return nil, fmt.Errorf("enrich: %s is a %q database, not a %s database", path, t, kind)
	}
	return r, nil
}

// Close releases the databases.
func (g *GeoIP) Close() error {
	var errs []error
	for _, r := range []*maxminddb.Reader{g.geo, g.asn} {
		if r != nil {
			errs = append(errs, r.Close())
		}
	}
	return errors.Join(errs...)
}

// DatabaseTypes returns the types of the open databases (location, ASN),
// empty where one is absent.
func (g *GeoIP) DatabaseTypes() (geo, asn string) {
	if g.geo != nil {
		geo = g.geo.Metadata.DatabaseType
	}
	if g.asn != nil {
		asn = g.asn.Metadata.DatabaseType
	}
	return geo, asn
}

// names holds the English name of a place.
type names struct {
	EN string `maxminddb:"en"`
}

// country is a country record of a City or Country database.
type country struct {
	ISOCode string `maxminddb:"iso_code"`
	Names   names  `maxminddb:"names"`
}

// geoRecord is the part of a City or Country record Vigil reads.
type geoRecord struct {
	Country           country `maxminddb:"country"`
	RegisteredCountry country `maxminddb:"registered_country"`
	City              struct {
		Names names `maxminddb:"names"`
	} `maxminddb:"city"`
}

// asnRecord is an ASN (or ISP) database record.
type asnRecord struct {
	Number       uint32 `maxminddb:"autonomous_system_number"`
	Organization string `maxminddb:"autonomous_system_organization"`
}

// Lookup returns what the databases hold for a: the country (the
// registered country when the record has no location country), city, and
// autonomous system. An address in neither database gives a zero result.
func (g *GeoIP) Lookup(a netip.Addr) (GeoResult, error) {
	var res GeoResult
	a = a.Unmap()
	if g.geo != nil {
		var rec geoRecord
		if err := g.geo.Lookup(a).Decode(&rec); err != nil {
			return GeoResult{}, fmt.Errorf("enrich: location of %s: %w", a, err)
		}
		c := rec.Country
		if c.ISOCode == "" {
			c = rec.RegisteredCountry
		}
		res.Geo = schema.Geo{CountryISOCode: c.ISOCode, CountryName: c.Names.EN, CityName: rec.City.Names.EN}
	}
	if g.asn != nil {
		var rec asnRecord
		if err := g.asn.Lookup(a).Decode(&rec); err != nil {
			return GeoResult{}, fmt.Errorf("enrich: AS of %s: %w", a, err)
		}
		res.AS = schema.AS{Number: int64(rec.Number), Organization: schema.ASOrg{Name: rec.Organization}}
	}
	return res, nil
}
