package query

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// SQL is a translated query: a boolean DuckDB expression with positional
// "?" parameters, and their values in order.
type SQL struct {
	Where string
	Args  []any
}

// Translate turns a parsed query into a DuckDB condition over the columns
// of m. Values that do not fit their field (a word on a number field, a bad
// CIDR block) are *Error values naming the column.
func Translate(n Node, m Mapping) (SQL, error) {
	t := &translator{m: m}
	if err := t.node(n); err != nil {
		return SQL{}, err
	}
	return SQL{Where: t.b.String(), Args: t.args}, nil
}

// Compile parses src and translates it with m.
func Compile(src string, m Mapping) (SQL, error) {
	n, err := Parse(src)
	if err != nil {
		return SQL{}, err
	}
	return Translate(n, m)
}

type translator struct {
	m    Mapping
	b    strings.Builder
	args []any
}

// operand is a SQL expression with its own parameters.
type operand struct {
	sql  string
	args []any
}

func (t *translator) node(n Node) error {
	switch n := n.(type) {
	case *MatchAll:
		t.b.WriteString("TRUE")
	case *And:
		return t.join(n.Nodes, " AND ")
	case *Or:
		return t.join(n.Nodes, " OR ")
	case *Not:
		t.b.WriteString("((")
		if err := t.node(n.Node); err != nil {
			return err
		}
		t.b.WriteString(") IS NOT TRUE)")
	case *Term:
		return t.term(n)
	default:
		return errorf(1, "unknown query node %T", n)
	}
	return nil
}

func (t *translator) join(nodes []Node, sep string) error {
	t.b.WriteByte('(')
	for i, n := range nodes {
		if i > 0 {
			t.b.WriteString(sep)
		}
		if err := t.node(n); err != nil {
			return err
		}
	}
	t.b.WriteByte(')')
	return nil
}

// emit writes the operand, then rest with one "?" per value in vals.
func (t *translator) emit(o operand, rest string, vals ...any) {
	t.b.WriteString(o.sql)
	t.b.WriteString(rest)
	t.args = append(t.args, o.args...)
	t.args = append(t.args, vals...)
}

func (t *translator) term(n *Term) error {
	if n.Field == "" {
		return t.textSearch(n)
	}
	c, ok := t.m.Columns[n.Field]
	if !ok {
		if t.m.FieldsColumn == "" {
			return errorf(n.Col, "unknown field %q", n.Field)
		}
		return t.original(n)
	}
	col := operand{sql: c.Name}
	switch c.Kind {
	case Text:
		return t.text(n, col)
	case List:
		return t.list(n, col)
	case Number:
		return t.number(n, col)
	case Time:
		return t.time(n, col)
	case IP:
		return t.ip(n, c)
	default:
		return t.keyword(n, col, stringBound)
	}
}

// textSearch is a bare word or phrase: a case-insensitive search of the
// text columns.
func (t *translator) textSearch(n *Term) error {
	if len(t.m.TextColumns) == 0 {
		return errorf(n.Col, "bare words need a field: this store has no text columns")
	}
	pat := containsPattern(n)
	t.b.WriteByte('(')
	for i, c := range t.m.TextColumns {
		if i > 0 {
			t.b.WriteString(" OR ")
		}
		t.emit(operand{sql: c}, ` ILIKE ?::VARCHAR ESCAPE '\'`, pat)
	}
	t.b.WriteByte(')')
	return nil
}

func containsPattern(n *Term) string {
	if n.Op == OpWildcard {
		return "%" + globToLike(n.Value) + "%"
	}
	return "%" + likeEscape(n.Value) + "%"
}

// keyword matches exactly, wildcards case-insensitively and ranges by the
// bound conversion conv.
func (t *translator) keyword(n *Term, col operand, conv boundConv) error {
	switch n.Op {
	case OpMatch:
		t.emit(col, " = ?::VARCHAR", n.Value)
	case OpWildcard:
		t.emit(col, ` ILIKE ?::VARCHAR ESCAPE '\'`, globToLike(n.Value))
	case OpExists:
		t.emit(col, " IS NOT NULL")
	case OpRange:
		return t.rangeOf(n, col, conv)
	}
	return nil
}

func (t *translator) text(n *Term, col operand) error {
	switch n.Op {
	case OpMatch, OpWildcard:
		t.emit(col, ` ILIKE ?::VARCHAR ESCAPE '\'`, containsPattern(n))
		return nil
	}
	return t.keyword(n, col, stringBound)
}

// list matches when any element of the list matches as a keyword would.
func (t *translator) list(n *Term, col operand) error {
	switch n.Op {
	case OpMatch:
		t.emit(operand{sql: "list_contains(" + col.sql}, ", ?::VARCHAR)", n.Value)
	case OpExists:
		t.emit(operand{sql: "len(" + col.sql}, ") > 0")
	default:
		t.b.WriteString("len(list_filter(" + col.sql + ", lambda x: ")
		if err := t.keyword(n, operand{sql: "x"}, stringBound); err != nil {
			return err
		}
		t.b.WriteString(")) > 0")
	}
	return nil
}

func (t *translator) number(n *Term, col operand) error {
	switch n.Op {
	case OpMatch:
		v, cast, err := numberValue(n.Value, n.ValueCol, n.Field)
		if err != nil {
			return err
		}
		t.emit(col, " = ?::"+cast, v)
	case OpWildcard:
		t.emit(operand{sql: "CAST(" + col.sql + " AS VARCHAR)"}, ` LIKE ?::VARCHAR ESCAPE '\'`, globToLike(n.Value))
	default:
		return t.keyword(n, col, func(b Bound) (any, string, error) { return numberValue(b.Value, b.Col, n.Field) })
	}
	return nil
}

func (t *translator) time(n *Term, col operand) error {
	switch n.Op {
	case OpMatch:
		v, day, err := timeValue(n.Value, n.ValueCol, n.Field)
		if err != nil {
			return err
		}
		if !day {
			t.emit(col, " = ?::TIMESTAMP", v)
			return nil
		}
		t.emit(operand{sql: "(" + col.sql}, " >= ?::TIMESTAMP AND ", v)
		t.emit(col, " < ?::TIMESTAMP)", v.Add(24*time.Hour))
		return nil
	case OpWildcard:
		return errorf(n.ValueCol, "wildcards do not apply to the time field %s; use a range such as %s:[2024-01-01 TO 2024-01-02}", n.Field, n.Field)
	}
	return t.keyword(n, col, func(b Bound) (any, string, error) {
		v, _, err := timeValue(b.Value, b.Col, n.Field)
		return v, "TIMESTAMP", err
	})
}

// original matches an original field, looked up by name in the JSON column.
func (t *translator) original(n *Term) error {
	col := operand{
		sql:  "json_extract_string(" + t.m.FieldsColumn + ", ?::VARCHAR)",
		args: []any{jsonPointer(n.Field)},
	}
	if n.Op != OpRange {
		return t.keyword(n, col, stringBound)
	}
	conv, cast := originalRangeConv(n)
	if cast != "" {
		col.sql = "TRY_CAST(" + col.sql + " AS " + cast + ")"
	}
	return t.rangeOf(n, col, conv)
}

// originalRangeConv chooses how to compare an original field: as numbers
// when every bound is a number, as times when every bound is a time, and
// as strings otherwise.
func originalRangeConv(n *Term) (boundConv, string) {
	allNum, allTime := true, true
	for _, b := range [...]Bound{n.Lo, n.Hi} {
		if b.Open {
			continue
		}
		if _, _, err := numberValue(b.Value, b.Col, n.Field); err != nil {
			allNum = false
		}
		if _, _, err := timeValue(b.Value, b.Col, n.Field); err != nil {
			allTime = false
		}
	}
	switch {
	case allNum:
		return func(b Bound) (any, string, error) {
			v, err := strconv.ParseFloat(b.Value, 64)
			return v, "DOUBLE", err
		}, "DOUBLE"
	case allTime:
		return func(b Bound) (any, string, error) {
			v, _, err := timeValue(b.Value, b.Col, n.Field)
			return v, "TIMESTAMP", err
		}, "TIMESTAMP"
	}
	return stringBound, ""
}

// ip matches addresses by their numeric keys: CIDR blocks and address
// ranges become range conditions on the Hi and Lo columns.
func (t *translator) ip(n *Term, c Column) error {
	col := operand{sql: c.Name}
	switch n.Op {
	case OpMatch:
		if !n.Quoted && strings.Contains(n.Value, "/") {
			p, err := netip.ParsePrefix(n.Value)
			if err != nil {
				return errorf(n.ValueCol, "%s: %q is not a CIDR block", n.Field, n.Value)
			}
			a, bits := prefixBits(p)
			t.addrRange(c, a, prefixEnd(a, bits), bits)
			return nil
		}
		a, err := netip.ParseAddr(n.Value)
		if err != nil {
			t.emit(col, " = ?::VARCHAR", n.Value)
			return nil
		}
		t.addrRange(c, a, a, 128)
		return nil
	case OpRange:
		return t.ipRange(n, c)
	}
	return t.keyword(n, col, stringBound)
}

// addrRange writes lo <= address <= hi where the first bits bits of lo and
// hi are equal.
func (t *translator) addrRange(c Column, lo, hi netip.Addr, bits int) {
	lh, ll := addrKey(lo)
	hh, hl := addrKey(hi)
	switch {
	case bits >= 128:
		t.emit(operand{sql: "(" + c.Hi}, " = ?::BIGINT AND ", lh)
		t.emit(operand{sql: c.Lo}, " = ?::BIGINT)", ll)
	case bits >= 64:
		t.emit(operand{sql: "(" + c.Hi}, " = ?::BIGINT AND ", lh)
		t.emit(operand{sql: c.Lo}, " BETWEEN ?::BIGINT AND ?::BIGINT)", ll, hl)
	default:
		t.emit(operand{sql: c.Hi}, " BETWEEN ?::BIGINT AND ?::BIGINT", lh, hh)
	}
}

// ipRange writes an address range as a lexicographic condition on
// (Hi, Lo).
func (t *translator) ipRange(n *Term, c Column) error {
	if n.Lo.Open && n.Hi.Open {
		t.emit(operand{sql: c.Name}, " IS NOT NULL")
		return nil
	}
	t.b.WriteByte('(')
	for i, b := range [...]Bound{n.Lo, n.Hi} {
		if b.Open {
			continue
		}
		a, err := netip.ParseAddr(b.Value)
		if err != nil {
			return errorf(b.Col, "%s: %q is not an IP address", n.Field, b.Value)
		}
		if i == 1 && !n.Lo.Open {
			t.b.WriteString(" AND ")
		}
		hi, lo := addrKey(a)
		op, eq := ">", " >= "
		if i == 1 {
			op, eq = "<", " <= "
		}
		if !b.Inclusive {
			eq = " " + op + " "
		}
		t.emit(operand{sql: "(" + c.Hi}, " "+op+" ?::BIGINT OR ", hi)
		t.emit(operand{sql: "(" + c.Hi}, " = ?::BIGINT AND ", hi)
		t.emit(operand{sql: c.Lo}, eq+"?::BIGINT))", lo)
	}
	t.b.WriteByte(')')
	return nil
}

// boundConv converts a range bound to a parameter value and its SQL type.
type boundConv func(Bound) (any, string, error)

func stringBound(b Bound) (any, string, error) { return b.Value, "VARCHAR", nil }

// rangeOf writes the range of n over col, converting bounds with conv.
func (t *translator) rangeOf(n *Term, col operand, conv boundConv) error {
	if n.Lo.Open && n.Hi.Open {
		t.emit(col, " IS NOT NULL")
		return nil
	}
	t.b.WriteByte('(')
	if !n.Lo.Open {
		v, cast, err := conv(n.Lo)
		if err != nil {
			return err
		}
		op := " > ?::"
		if n.Lo.Inclusive {
			op = " >= ?::"
		}
		t.emit(col, op+cast, v)
	}
	if !n.Hi.Open {
		v, cast, err := conv(n.Hi)
		if err != nil {
			return err
		}
		if !n.Lo.Open {
			t.b.WriteString(" AND ")
		}
		op := " < ?::"
		if n.Hi.Inclusive {
			op = " <= ?::"
		}
		t.emit(col, op+cast, v)
	}
	t.b.WriteByte(')')
	return nil
}

// numberValue parses an integer (BIGINT) or a finite decimal (DOUBLE).
func numberValue(s string, col int, field string) (any, string, error) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, "BIGINT", nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, "", errorf(col, "%s takes a number, not %q", field, s)
	}
	return f, "DOUBLE", nil
}

// timeValue parses a time; day is true for a bare date (midnight UTC).
// Times without a zone are UTC.
func timeValue(s string, col int, field string) (time.Time, bool, error) {
	if v, err := time.Parse("2006-01-02", s); err == nil {
		return v, true, nil
	}
	layouts := [...]string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04",
		"2006-01-02 15:04",
	}
	for _, layout := range layouts {
		if v, err := time.Parse(layout, s); err == nil {
			return v.UTC(), false, nil
		}
	}
	return time.Time{}, false, errorf(col, "%s takes a time such as 2024-01-02 or 2024-01-02T15:04:05Z, not %q", field, s)
}

// likeEscape escapes LIKE's special characters with a backslash.
func likeEscape(s string) string {
	if !strings.ContainsAny(s, `%_\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '%' || r == '_' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// globToLike turns a wildcard pattern into a LIKE pattern with escape '\'.
func globToLike(p string) string {
	var b strings.Builder
	esc := false
	for _, r := range p {
		switch {
		case esc:
			esc = false
			if r == '%' || r == '_' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case r == '\\':
			esc = true
		case r == '*':
			b.WriteByte('%')
		case r == '?':
			b.WriteByte('_')
		case r == '%' || r == '_':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// jsonPointer returns the JSON pointer (RFC 6901) of a top-level key.
func jsonPointer(key string) string {
	return "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
}
