// Package metrics is contentd's Prometheus instrumentation, served at /metrics:
// calls by method, transport and code with latency histograms (gRPC and REST,
// through go-grpc-middleware's provider), HTTP requests, exports and imports by
// outcome with their bytes and rows, the pgx pool, and the backups as the
// database records them (the last success's time, size and duration, so that an
// alert can fire when the weekly backup did not happen).
package metrics

import (
	"context"
	"net/http"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"

	"github.com/educacao-continuada/content-transfer/internal/backup"
)

// Namespace prefixes contentd's own metrics.
const Namespace = "contentd"

// Transport labels say how a call arrived.
const (
	TransportGRPC = "grpc"
	TransportREST = "rest"
)

// Latency buckets, in seconds: from a listing (milliseconds) to an L import (tens of seconds).
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// Metrics holds the registry and the instruments.
type Metrics struct {
	registry *prometheus.Registry
	calls    *grpcprom.ServerMetrics

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	exports      *prometheus.CounterVec
	exportBytes  *prometheus.CounterVec
	exportRows   prometheus.Counter
	imports      *prometheus.CounterVec
	importBytes  *prometheus.CounterVec
	importedRows prometheus.Counter
}

type transportKey struct{}

// WithTransport marks ctx as a call that arrived over transport.
func WithTransport(ctx context.Context, transport string) context.Context {
	return context.WithValue(ctx, transportKey{}, transport)
}

func transportOf(ctx context.Context) string {
	if t, ok := ctx.Value(transportKey{}).(string); ok {
		return t
	}
	return TransportGRPC
}

// New registers the instruments, with the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.calls = grpcprom.NewServerMetrics(
		grpcprom.WithServerCounterOptions(grpcprom.WithNamespace(Namespace)),
		grpcprom.WithServerHandlingTimeHistogram(grpcprom.WithHistogramNamespace(Namespace), grpcprom.WithHistogramBuckets(latencyBuckets)),
		grpcprom.WithContextLabels("transport"),
	)
	f := factory{m.registry}
	m.httpRequests = f.counterVec("http_requests_total", "HTTP requests served, by method and status code (pages, API, health).", "method", "code")
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "http_request_duration_seconds",
		Help: "Time to serve an HTTP request, by method and status code.", Buckets: latencyBuckets}, []string{"method", "code"})
	m.exports = f.counterVec("exports_total", "Course exports, by outcome: ok, or the error code.", "outcome")
	m.exportBytes = f.counterVec("export_bytes_total", "Bytes of exported files sent, by transport (JSON over REST, protobuf over gRPC).", "transport")
	m.exportRows = f.counter("export_rows_total", "Content rows exported (course, modules, lessons, quizzes, questions, options, competencies, links, bank, FAQ).")
	m.imports = f.counterVec("imports_total", "Import analyses and applies, by operation and outcome: ok, invalid (the file has errors), or the error code.", "operation", "outcome")
	m.importBytes = f.counterVec("import_bytes_total", "Bytes of the files received for import, by operation.", "operation")
	m.importedRows = f.counter("import_rows_total", "Rows created by applied imports.")
	m.registry.MustRegister(m.calls, m.httpDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

type factory struct{ r *prometheus.Registry }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.r.MustRegister(c)
	return c
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
	f.r.MustRegister(c)
	return c
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// UnaryServerInterceptor counts and times every call, gRPC or REST (the REST
// gateway runs the same chain, with the transport in the context).
func (m *Metrics) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return m.calls.UnaryServerInterceptor(grpcprom.WithLabelsFromContext(func(ctx context.Context) prometheus.Labels {
		return prometheus.Labels{"transport": transportOf(ctx)}
	}))
}

// InstrumentHTTP counts and times every HTTP request.
func (m *Metrics) InstrumentHTTP(h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerDuration(m.httpDuration, promhttp.InstrumentHandlerCounter(m.httpRequests, h))
}

// Exported records an export: its outcome ("ok" or an error code) and, when
// it succeeded, the rows it holds.
func (m *Metrics) Exported(outcome string, rows int) {
	m.exports.WithLabelValues(outcome).Inc()
	m.exportRows.Add(float64(rows))
}

// ExportSent records the bytes of an exported file sent over transport.
func (m *Metrics) ExportSent(transport string, bytes int) {
	m.exportBytes.WithLabelValues(transport).Add(float64(bytes))
}

// Imported records an analysis or an apply ("analyze", "apply") of a file of
// bytes, its outcome, and the rows an apply created.
func (m *Metrics) Imported(operation, outcome string, bytes int, rows int64) {
	m.imports.WithLabelValues(operation, outcome).Inc()
	m.importBytes.WithLabelValues(operation).Add(float64(bytes))
	m.importedRows.Add(float64(rows))
}

// RegisterPool adds the pgx pool's statistics, read at each scrape.
func (m *Metrics) RegisterPool(pool *pgxpool.Pool) {
	m.registry.MustRegister(poolCollector{pool})
}

// RegisterBackups adds the backups as the database records them, read at each scrape.
func (m *Metrics) RegisterBackups(o *backup.Overviewer) {
	m.registry.MustRegister(&backupCollector{overview: o})
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
}

var (
	poolAcquired        = desc("db_pool_acquired_connections", "Connections of the pool in use.")
	poolIdle            = desc("db_pool_idle_connections", "Idle connections of the pool.")
	poolTotal           = desc("db_pool_connections", "Connections of the pool, open or opening.")
	poolMax             = desc("db_pool_max_connections", "The pool's limit (DB_MAX_CONNS).")
	poolAcquires        = desc("db_pool_acquires_total", "Connections acquired from the pool.")
	poolAcquireSeconds  = desc("db_pool_acquire_seconds_total", "Time spent waiting to acquire connections.")
	poolEmptyAcquires   = desc("db_pool_empty_acquires_total", "Acquires that had to wait for a connection: the pool was exhausted.")
	poolCanceledAcquire = desc("db_pool_canceled_acquires_total", "Acquires cancelled by their caller while waiting.")
)

type poolCollector struct{ pool *pgxpool.Pool }

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolTotal, poolMax, poolAcquires, poolAcquireSeconds, poolEmptyAcquires, poolCanceledAcquire} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(poolAcquired, float64(s.AcquiredConns()))
	gauge(poolIdle, float64(s.IdleConns()))
	gauge(poolTotal, float64(s.TotalConns()))
	gauge(poolMax, float64(s.MaxConns()))
	counter(poolAcquires, float64(s.AcquireCount()))
	counter(poolAcquireSeconds, s.AcquireDuration().Seconds())
	counter(poolEmptyAcquires, float64(s.EmptyAcquireCount()))
	counter(poolCanceledAcquire, float64(s.CanceledAcquireCount()))
}

var (
	backupUp          = desc("backup_metrics_up", "1 if the backup runs could be read from the database at this scrape.")
	backupLastSuccess = desc("backup_last_success_timestamp_seconds",
		"When the newest successful backup (among the latest 20 runs, any trigger, any replica) finished; 0 if none. Alert on time() minus this.")
	backupLastSize     = desc("backup_last_success_size_bytes", "Size of the newest successful backup.")
	backupLastDuration = desc("backup_last_success_duration_seconds", "How long the newest successful backup took, verification included.")
	backupLastRun      = desc("backup_last_run_ok", "1 if the newest run (any trigger) succeeded or is running, 0 if it failed.", "trigger", "error_code")
	backupNext         = desc("backup_next_run_timestamp_seconds", "The next scheduled slot, when this replica has a schedule.")
)

// backupScrapeTimeout bounds the database read of a scrape.
const backupScrapeTimeout = 3 * time.Second

type backupCollector struct{ overview *backup.Overviewer }

func (c *backupCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{backupUp, backupLastSuccess, backupLastSize, backupLastDuration, backupLastRun, backupNext} {
		ch <- d
	}
}

func (c *backupCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), backupScrapeTimeout)
	defer cancel()
	o, err := c.overview.Overview(ctx, backup.DefaultRunLimit, false)
	if err != nil {
		gauge(backupUp, 0)
		return
	}
	gauge(backupUp, 1)
	if !o.Next.IsZero() {
		gauge(backupNext, float64(o.Next.Unix()))
	}
	if s := o.LastSuccess(); s != nil {
		gauge(backupLastSuccess, float64(s.FinishedAt.Unix()))
		gauge(backupLastSize, float64(s.SizeBytes))
		gauge(backupLastDuration, s.FinishedAt.Sub(s.StartedAt).Seconds())
	} else {
		gauge(backupLastSuccess, 0)
	}
	if r := o.LastRun(); r != nil {
		ok := 1.0
		if r.Status == backup.RunFailed {
			ok = 0
		}
		gauge(backupLastRun, ok, string(r.Trigger), r.ErrorCode)
	}
}
