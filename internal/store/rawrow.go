package store

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// rawRow decodes the columns of one row from the bytes PostgreSQL sent, for the
// few types an export reads (uuid, integer, boolean, text), without pgx's scan
// plans: looking a plan up and calling it through interfaces, for every column
// of every row, was a sixth of the reader's CPU.
//
// A column comes in binary when pgx knows its type and describes the statement
// first (its default mode), in text otherwise (the modes a transaction pooler
// needs): both are read. A column of another type than the one asked for, or
// NULL where the schema forbids it, is an error, the first one kept in err.
type rawRow struct {
	values [][]byte
	fields []pgconn.FieldDescription
	types  *pgtype.Map
	err    error
	// elements are what texts returns; the plan of texts for the formats it
	// leaves to pgx, for columns of this type and format, scans into scanned.
	elements    [][]byte
	scanned     []string
	textsPlan   pgtype.ScanPlan
	textsOID    uint32
	textsFormat int16
}

// start makes r read the rows of rows, whose columns are the same in each.
func (r *rawRow) start(rows pgx.Rows) {
	r.fields, r.types = rows.FieldDescriptions(), rows.Conn().TypeMap()
}

// next points r at the current row of rows.
func (r *rawRow) next(rows pgx.Rows) {
	r.values, r.err = rows.RawValues(), nil
}

func (r *rawRow) fail(i int, want string) {
	if r.err == nil {
		f := r.fields[i]
		r.err = fmt.Errorf("column %s: want %s, got type %d in format %d (%d bytes)", f.Name, want, f.DataTypeOID, f.Format, len(r.values[i]))
	}
}

// uuid returns column i, a uuid; ok is false when it is NULL.
func (r *rawRow) uuid(i int) (id uuid.UUID, ok bool) {
	v := r.values[i]
	switch {
	case v == nil:
		return id, false
	case r.fields[i].DataTypeOID != pgtype.UUIDOID:
	case r.fields[i].Format == pgtype.BinaryFormatCode && len(v) == len(id):
		return uuid.UUID(v), true
	case r.fields[i].Format == pgtype.TextFormatCode:
		if id, err := uuid.ParseBytes(v); err == nil {
			return id, true
		}
	}
	r.fail(i, "uuid")
	return id, false
}

// int32 returns column i, an integer that is not NULL.
func (r *rawRow) int32(i int) int32 {
	v := r.values[i]
	switch {
	case v == nil || r.fields[i].DataTypeOID != pgtype.Int4OID:
	case r.fields[i].Format == pgtype.BinaryFormatCode && len(v) == 4:
		return int32(binary.BigEndian.Uint32(v))
	case r.fields[i].Format == pgtype.TextFormatCode:
		if n, err := strconv.ParseInt(string(v), 10, 32); err == nil {
			return int32(n)
		}
	}
	r.fail(i, "integer")
	return 0
}

// bool returns column i, a boolean that is not NULL.
func (r *rawRow) bool(i int) bool {
	v := r.values[i]
	switch {
	case len(v) != 1 || r.fields[i].DataTypeOID != pgtype.BoolOID:
	case r.fields[i].Format == pgtype.BinaryFormatCode && v[0] <= 1:
		return v[0] == 1
	case r.fields[i].Format == pgtype.TextFormatCode && (v[0] == 't' || v[0] == 'f'):
		return v[0] == 't'
	}
	r.fail(i, "boolean")
	return false
}

// text returns column i, text that is not NULL, as it is in the read buffer:
// valid until the next row. Text is the same bytes in either format.
func (r *rawRow) text(i int) []byte {
	v := r.values[i]
	if v == nil || r.fields[i].DataTypeOID != pgtype.TextOID && r.fields[i].DataTypeOID != pgtype.VarcharOID {
		r.fail(i, "text")
	}
	return v
}

// texts returns the elements of column i, an array of text, as they are in
// the read buffer (or in pgx's strings, for the formats it reads): valid until
// the next row, read only, in a slice reused for every row.
// NULL is an empty array; a NULL element is an error. A one-dimensional
// array in binary (pgx's default mode) is read here, any other goes through
// pgx's plan, made once per type and format (the text format's quoting is
// pgx's to read).
func (r *rawRow) texts(i int) [][]byte {
	v, f := r.values[i], r.fields[i]
	r.elements = r.elements[:0]
	switch {
	case v == nil:
		return r.elements
	case f.DataTypeOID != pgtype.TextArrayOID && f.DataTypeOID != pgtype.VarcharArrayOID:
		r.fail(i, "an array of text")
		return r.elements
	case f.Format == pgtype.BinaryFormatCode:
		if !r.binaryTexts(v) {
			r.elements = r.elements[:0]
			r.fail(i, "a one-dimensional array of text without NULL")
		}
		return r.elements
	}
	if r.textsPlan == nil || r.textsOID != f.DataTypeOID || r.textsFormat != f.Format {
		r.textsPlan, r.textsOID, r.textsFormat = r.types.PlanScan(f.DataTypeOID, f.Format, &r.scanned), f.DataTypeOID, f.Format
	}
	if err := r.textsPlan.Scan(v, &r.scanned); err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("column %s: %w", f.Name, err)
		}
		return r.elements
	}
	for _, s := range r.scanned {
		r.elements = append(r.elements, unsafe.Slice(unsafe.StringData(s), len(s))) // read only, as the binary's
	}
	return r.elements
}

// binaryTexts appends to r.elements the elements of v, an array of text in
// PostgreSQL's binary format: its number of dimensions, a flag, the elements'
// type, each dimension's length and lower bound, then each element's length
// (-1 for NULL) and bytes.
func (r *rawRow) binaryTexts(v []byte) bool {
	word := func(at int) int32 { return int32(binary.BigEndian.Uint32(v[at:])) }
	if len(v) < 12 || uint32(word(8)) != pgtype.TextOID && uint32(word(8)) != pgtype.VarcharOID {
		return false
	}
	switch word(0) {
	case 0:
		return len(v) == 12
	case 1:
	default:
		return false
	}
	if len(v) < 20 {
		return false
	}
	n, at := int(word(12)), 20
	for range n {
		if at+4 > len(v) {
			return false
		}
		size := int(word(at))
		at += 4
		if size < 0 || at+size > len(v) {
			return false
		}
		r.elements = append(r.elements, v[at:at+size:at+size])
		at += size
	}
	return at == len(v)
}
