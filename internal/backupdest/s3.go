package backupdest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// MaxS3ObjectBytes is the largest backup an S3 destination takes: publishing is
// a server-side copy from the temporary key, and S3 copies at most 5 GiB in one
// request.
var MaxS3ObjectBytes int64 = 5 << 30

// S3 keeps backups in a bucket of S3-compatible object storage, under a prefix.
//
// The client is configured the way the AWS tools are: credentials from
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the shared files), the region
// from AWS_REGION, and another service's endpoint from AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL — Supabase Storage's is https://<ref>.supabase.co/storage/v1/s3.
// With an endpoint of its own, the bucket goes in the path (as MinIO and
// Supabase want) and checksums are sent only where the API requires them.
type S3 struct {
	client   *s3.Client
	uploader *transfermanager.Client
	bucket   string
	prefix   string
}

// NewS3 returns the destination of "s3://bucket/prefix".
func NewS3(ctx context.Context, location string) (*S3, error) {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("backup destination %q: want s3://bucket/prefix", location)
	}
	opts := []func(*config.LoadOptions) error{}
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, config.WithRegion("us-east-1")) // what MinIO expects; AWS and Supabase need the real one
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("S3 configuration: %w", err)
	}
	custom := cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	if custom {
		cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = custom })
	uploader := transfermanager.New(client, func(o *transfermanager.Options) {
		o.FailTimeout = 30 * time.Second // abort a failed multipart upload even when the run was cancelled
		if custom {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		}
	})
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3{client: client, uploader: uploader, bucket: u.Host, prefix: prefix}, nil
}

func (d *S3) String() string { return "s3://" + d.bucket + "/" + d.prefix }

func (d *S3) key(name string) string { return d.prefix + name }

// Create streams name to its temporary key as it is written: a multipart
// upload with a few parts in memory at a time.
func (d *S3) Create(ctx context.Context, name string) (Upload, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	u := &s3Upload{dest: d, name: name, temp: d.key(name + partialSuffix), pw: pw, done: make(chan error, 1), cancel: cancel}
	go func() {
		_, err := d.uploader.UploadObject(ctx, &transfermanager.UploadObjectInput{
			Bucket: aws.String(d.bucket), Key: aws.String(u.temp), Body: pr,
			ContentType: aws.String("application/octet-stream"),
		})
		pr.CloseWithError(err) // unblock the writer if the upload failed
		if err != nil {
			u.failed.Store(&err)
		}
		u.done <- err
	}()
	return u, nil
}

// Open streams a published object.
func (d *S3) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	return d.get(ctx, d.key(name))
}

func (d *S3) get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%w: s3://%s/%s", ErrNotExist, d.bucket, key)
		}
		return nil, fmt.Errorf("read s3://%s/%s: %w", d.bucket, key, err)
	}
	return out.Body, nil
}

// List lists the objects right under the prefix but the temporary ones.
func (d *S3) List(ctx context.Context) ([]Object, error) {
	var out []Object
	p := s3.NewListObjectsV2Paginator(d.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(d.bucket), Prefix: aws.String(d.prefix), Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if isNotFound(err) {
				return nil, fmt.Errorf("list %s: the bucket does not exist", d)
			}
			return nil, fmt.Errorf("list %s: %w", d, err)
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), d.prefix)
			if name == "" || strings.Contains(name, "/") || strings.HasSuffix(name, partialSuffix) {
				continue
			}
			out = append(out, Object{Name: name, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)})
		}
	}
	return out, nil
}

// Remove deletes a published object.
func (d *S3) Remove(ctx context.Context, name string) error {
	return d.remove(ctx, d.key(name))
}

func (d *S3) remove(ctx context.Context, key string) error {
	if _, err := d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", d.bucket, key, err)
	}
	return nil
}

// FreeBytes: object storage does not say how much room is left.
func (d *S3) FreeBytes(context.Context) (int64, bool, error) { return 0, false, nil }

func (d *S3) exists(ctx context.Context, key string) (bool, error) {
	_, err := d.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(key)})
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("look for s3://%s/%s: %w", d.bucket, key, err)
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var nsb *types.NoSuchBucket
	var api smithy.APIError
	return errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &nsb) ||
		errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchKey")
}

type s3Upload struct {
	dest       *S3
	name, temp string
	pw         *io.PipeWriter
	written    atomic.Int64
	failed     atomic.Pointer[error]
	done       chan error
	cancel     context.CancelFunc
	finished   bool
	uploaded   bool
	published  bool
}

func (u *s3Upload) Write(p []byte) (int, error) {
	if u.written.Load()+int64(len(p)) > MaxS3ObjectBytes {
		return 0, fmt.Errorf("the backup is larger than %d GiB, the most an S3 destination takes here "+
			"(S3 copies at most 5 GiB in one request): use a directory destination", MaxS3ObjectBytes>>30)
	}
	n, err := u.pw.Write(p)
	u.written.Add(int64(n))
	return n, err
}

func (u *s3Upload) File() *os.File { return nil }

func (u *s3Upload) Written() int64 { return u.written.Load() }

func (u *s3Upload) Err() error {
	if err := u.failed.Load(); err != nil {
		return fmt.Errorf("upload to %s: %w", u.dest, *err)
	}
	return nil
}

// Finish ends the stream and waits for the upload to complete.
func (u *s3Upload) Finish(_ context.Context) error {
	if u.finished {
		return nil
	}
	u.finished = true
	u.pw.Close()
	if err := <-u.done; err != nil {
		return fmt.Errorf("upload to %s: %w", u.dest, err)
	}
	u.uploaded = true
	return nil
}

func (u *s3Upload) Reopen(ctx context.Context) (io.ReadCloser, error) { return u.dest.get(ctx, u.temp) }

// Publish copies the temporary object to its name, server-side, then deletes it.
func (u *s3Upload) Publish(ctx context.Context) error {
	final := u.dest.key(u.name)
	exists, err := u.dest.exists(ctx, final)
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("%w: s3://%s/%s", ErrExist, u.dest.bucket, final)
	}
	_, err = u.dest.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String(u.dest.bucket), Key: aws.String(final),
		CopySource: aws.String(url.PathEscape(u.dest.bucket) + "/" + escapeKey(u.temp)),
	})
	if err != nil {
		return fmt.Errorf("publish s3://%s/%s: %w", u.dest.bucket, final, err)
	}
	u.published = true
	return u.dest.remove(ctx, u.temp)
}

// Abort stops an upload under way (the multipart upload is aborted) or deletes
// the finished temporary object. It uses a context of its own, so that it
// cleans up after a cancelled run too.
func (u *s3Upload) Abort(ctx context.Context) error {
	if u.published {
		return nil
	}
	if !u.finished {
		u.finished = true
		u.cancel()
		_ = u.pw.CloseWithError(errors.New("backup aborted")) // always nil
		<-u.done                                              //nolint:errcheck // the upload ends with the error of its cancellation
		return nil
	}
	if !u.uploaded {
		return nil
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return u.dest.remove(actx, u.temp)
}

// escapeKey escapes each segment of a key for x-amz-copy-source.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
