package feed

import (
	"fmt"
	"strings"

	"github.com/vigil-soc/vigil/internal/intel"
)

// Preset names of known CSV formats.
const (
	// PresetFeodo is the abuse.ch Feodo Tracker botnet C2 IP blocklist:
	// "# first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware".
	PresetFeodo = "feodo"
	// PresetURLhaus is the abuse.ch URLhaus CSV dump: "# id,dateadded,url,
	// url_status,last_online,threat,tags,urlhaus_link,reporter".
	PresetURLhaus = "urlhaus"
	// PresetSSLBLJA3 is the abuse.ch SSLBL JA3 fingerprint list:
	// "# ja3_md5,Firstseen,Lastseen,Listingreason".
	PresetSSLBLJA3 = "sslbl-ja3"
	// PresetSlips is Slips' own_malicious_iocs.csv: "IP/domain/range,
	// threat level, description, tag".
	PresetSlips = "slips"
	// PresetSlipsJA3 is Slips' own_malicious_JA3.csv: "JA3 hash, threat
	// level, description".
	PresetSlipsJA3 = "slips-ja3"
)

// Presets lists the CSV preset names.
func Presets() []string {
	return []string{PresetFeodo, PresetURLhaus, PresetSSLBLJA3, PresetSlips, PresetSlipsJA3}
}

// Preset returns the CSV options of a known format.
//
//   - feodo: dst_ip is an ip indicator with a destination.port condition
//     from dst_port, threat from malware, tag "c2", valid from
//     first_seen_utc, last seen from last_online.
//   - urlhaus: url is a url indicator, id the URLhaus id, valid from
//     dateadded, last seen from last_online, threat from threat (e.g.
//     malware_download), tags from tags, description the urlhaus_link.
//   - sslbl-ja3: ja3_md5 is a ja3 indicator, valid from Firstseen, last
//     seen from Lastseen, threat from Listingreason.
//   - slips: the first column is an IP, CIDR or domain (type detected; AS
//     numbers become Problems), the threat level gives the confidence
//     (info 20, low 40, medium 60, high 80, critical 100), then
//     description and tag.
//   - slips-ja3: a ja3 hash, threat level as confidence, description.
func Preset(name string) (CSVOptions, error) {
	switch strings.ToLower(name) {
	case PresetFeodo:
		return CSVOptions{Header: HeaderComment, Type: intel.TypeIP, Tags: []string{"c2"},
			Columns: Columns{FirstSeen: "1", Value: "2", Port: "3", LastSeen: "5", Threat: "6"}}, nil
	case PresetURLhaus:
		return CSVOptions{Header: HeaderComment, Type: intel.TypeURL,
			Columns: Columns{ID: "1", FirstSeen: "2", Value: "3", LastSeen: "5", Threat: "6", Tags: "7",
				Description: "8"}}, nil
	case PresetSSLBLJA3:
		return CSVOptions{Header: HeaderComment, Type: intel.TypeJA3,
			Columns: Columns{Value: "1", FirstSeen: "2", LastSeen: "3", Threat: "4"}}, nil
	case PresetSlips:
		return CSVOptions{Header: HeaderNone,
			Columns: Columns{Value: "1", Confidence: "2", Description: "3", Tags: "4"}}, nil
	case PresetSlipsJA3:
		return CSVOptions{Header: HeaderNone, Type: intel.TypeJA3,
			Columns: Columns{Value: "1", Confidence: "2", Description: "3"}}, nil
	}
	return CSVOptions{}, fmt.Errorf("unknown csv preset %q (known: %s)", name, strings.Join(Presets(), ", "))
}
