package feed

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vigil-soc/vigil/internal/intel"
)

// PortField is the event field an indicator's port condition names.
const PortField = "destination.port"

// DetectType tells the indicator type of a bare value: a URL (has a
// scheme, or a host followed by a path), an IP address or CIDR prefix, a
// hash by its number of hex digits (32 md5, 40 sha1, 64 sha256, 128
// sha512), an e-mail address (has "@") or a domain name. A 32-digit JA3
// fingerprint reads as md5; fix the type for JA3 lists.
func DetectType(v string) (intel.Type, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", intel.ErrEmpty
	case strings.Contains(v, "://"):
		return intel.TypeURL, nil
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return intel.TypeIP, nil
	}
	if _, err := netip.ParsePrefix(v); err == nil {
		return intel.TypeIP, nil
	}
	if isHex(v) {
		switch len(v) {
		case 32:
			return intel.TypeMD5, nil
		case 40:
			return intel.TypeSHA1, nil
		case 64:
			return intel.TypeSHA256, nil
		case 128:
			return intel.TypeSHA512, nil
		}
	}
	if strings.Contains(v, "@") && !strings.ContainsAny(v, "/?") {
		return intel.TypeEmail, nil
	}
	if isASN(v) {
		return "", fmt.Errorf("%q is an autonomous system number; AS indicators are not supported", v)
	}
	if host, _, ok := strings.Cut(v, "/"); ok && (looksDomain(host) || isHostPort(host)) {
		return intel.TypeURL, nil
	}
	if looksDomain(v) {
		return intel.TypeDomain, nil
	}
	return "", fmt.Errorf("cannot tell the indicator type of %q", v)
}

func isHex(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i] | 0x20
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return v != ""
}

func isASN(v string) bool {
	if len(v) < 3 || !strings.EqualFold(v[:2], "as") {
		return false
	}
	_, err := strconv.ParseUint(v[2:], 10, 32)
	return err == nil
}

// isHostPort reports an IP or domain with a port, as in "1.2.3.4:8080".
func isHostPort(v string) bool {
	host, port, ok := strings.Cut(v, ":")
	if !ok {
		return false
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return false
	}
	_, err := netip.ParseAddr(host)
	return err == nil || looksDomain(host)
}

// looksDomain reports a dotted name of letters, digits, '-' and '_' (an
// optional leading "*." allowed) whose last label is not all digits.
func looksDomain(v string) bool {
	v = strings.TrimSuffix(strings.TrimPrefix(v, "*."), ".")
	labels := strings.Split(v, ".")
	if len(labels) < 2 || len(v) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i] | 0x20
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && l[i] != '-' && l[i] != '_' {
				return false
			}
		}
	}
	_, err := strconv.ParseUint(labels[len(labels)-1], 10, 64)
	return err != nil
}

// ListOptions configures ReadList.
type ListOptions struct {
	// Name is the file name or URL, for Problem locations.
	Name string
	// Type fixes the type of every line; "" detects it per line with
	// DetectType.
	Type intel.Type
}

// ReadList reads a plain indicator list: one value per line; blank lines
// and lines starting with '#' or ';' are skipped, as is the rest of a line
// after " #" or " ;". When a line has several whitespace-separated fields
// the first is the value, except in hosts-file lines ("0.0.0.0 name",
// "127.0.0.1 name") where it is the second. "ip:port" values give an IP
// indicator with a destination.port condition. Lines that are not valid
// indicators become Problems at "name:line". The error is only for a
// failed read of r; the indicators read before it are returned with it.
func ReadList(r io.Reader, opts ListOptions) ([]intel.Indicator, []intel.Problem, error) {
	var (
		out   []intel.Indicator
		probs []intel.Problem
	)
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if v := listValue(line); v != "" {
			in, perr := listIndicator(v, opts.Type)
			if perr != nil {
				probs = append(probs, intel.Problem{Where: fmt.Sprintf("%s:%d", opts.Name, n), Reason: perr.Error()})
			} else {
				out = append(out, in)
			}
		}
		if errors.Is(err, io.EOF) {
			return out, probs, nil
		}
		if err != nil {
			return out, probs, fmt.Errorf("%s:%d: %w", opts.Name, n, err)
		}
	}
}

// listValue extracts the value of one list line, "" for none.
func listValue(line string) string {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' || line[0] == ';' {
		return ""
	}
	for _, sep := range []string{" #", "\t#", " ;", "\t;"} {
		if i := strings.Index(line, sep); i >= 0 {
			line = line[:i]
		}
	}
	f := strings.Fields(line)
	switch {
	case len(f) == 0:
		return ""
	case len(f) >= 2 && (f[0] == "0.0.0.0" || f[0] == "127.0.0.1" || f[0] == "::" || f[0] == "::1"):
		return f[1]
	}
	return f[0]
}

// listIndicator builds the indicator of one value of a list or CSV row.
func listIndicator(v string, t intel.Type) (intel.Indicator, error) {
	in := intel.Indicator{Confidence: -1}
	if (t == "" || t == intel.TypeIP) && maybeAddrPort(v) {
		if ap, err := netip.ParseAddrPort(v); err == nil {
			in.Also = []intel.Condition{{Field: PortField, Value: strconv.Itoa(int(ap.Port()))}}
			v = ap.Addr().String()
			t = intel.TypeIP
		}
	}
	if t == "" {
		var err error
		if t, err = DetectType(v); err != nil {
			return in, err
		}
	}
	norm, err := intel.Normalize(t, v)
	if err != nil {
		return in, err
	}
	in.Type, in.Value = t, norm
	return in, nil
}

// maybeAddrPort reports whether v may be "ip:port" or "[ip]:port", to
// spare ParseAddrPort's errors on other values.
func maybeAddrPort(v string) bool {
	if v == "" || strings.Contains(v, "/") {
		return false
	}
	return v[0] == '[' || strings.Count(v, ":") == 1
}
