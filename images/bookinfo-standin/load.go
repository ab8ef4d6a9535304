package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// headerFlags is the repeatable --header K:V.
type headerFlags []string

func (h *headerFlags) String() string { return strings.Join(*h, ", ") }

func (h *headerFlags) Set(v string) error {
	if k, _, ok := strings.Cut(v, ":"); !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want K:V, got %q", v)
	}
	*h = append(*h, v)
	return nil
}

// outcome is one request of a load run.
type outcome struct {
	status    int // 0: no answer
	err       string
	latency   time.Duration
	standin   string
	upstreams []string
}

// summary is what a load run prints.
type summary struct {
	URL       string             `json:"url"`
	Requests  int                `json:"requests"`
	Sent      int                `json:"sent"`
	NotSent   int                `json:"notSent"`
	Seconds   float64            `json:"seconds"`
	Statuses  map[string]int     `json:"statuses"`
	Errors    map[string]int     `json:"errors"`
	LatencyMs map[string]float64 `json:"latencyMs"`
	Standins  map[string]int     `json:"standins"`
	Upstreams map[string]int     `json:"upstreams"`
}

func load(args []string) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	url := fs.String("url", "", "the URL to GET")
	requests := fs.Int("requests", 100, "requests to send (1 to 1000000)")
	concurrency := fs.Int("concurrency", 4, "concurrent workers (1 to 256)")
	timeout := fs.Duration("timeout", 5*time.Second, "bound of each request (at most 5m)")
	deadline := fs.Duration("deadline", 5*time.Minute, "bound of the whole run (at most 1h)")
	var headers headerFlags
	fs.Var(&headers, "header", "K:V request header (repeatable; host:NAME sets the Host)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case *url == "":
		fmt.Fprintln(os.Stderr, "bookinfo-standin load: --url is required")
		return 2
	case *requests < 1 || *requests > 1000000:
		fmt.Fprintln(os.Stderr, "bookinfo-standin load: --requests must be between 1 and 1000000")
		return 2
	case *concurrency < 1 || *concurrency > 256:
		fmt.Fprintln(os.Stderr, "bookinfo-standin load: --concurrency must be between 1 and 256")
		return 2
	case *timeout <= 0 || *timeout > 5*time.Minute:
		fmt.Fprintln(os.Stderr, "bookinfo-standin load: --timeout must be above 0 and at most 5m")
		return 2
	case *deadline <= 0 || *deadline > time.Hour:
		fmt.Fprintln(os.Stderr, "bookinfo-standin load: --deadline must be above 0 and at most 1h")
		return 2
	}
	if _, err := http.NewRequest(http.MethodGet, *url, nil); err != nil {
		fmt.Fprintln(os.Stderr, "bookinfo-standin load:", err)
		return 2
	}

	client := directClient()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = *concurrency
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), *deadline)
	defer cancel()
	jobs := make(chan struct{}, *requests)
	for range *requests {
		jobs <- struct{}{}
	}
	close(jobs)
	var (
		mu       sync.Mutex
		outcomes []outcome
		wg       sync.WaitGroup
	)
	for range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if ctx.Err() != nil {
					return // past the deadline: the rest stays unsent
				}
				o := once(ctx, client, *url, headers, *timeout)
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	s := summarize(outcomes)
	s.URL, s.Requests, s.Sent, s.NotSent = *url, *requests, len(outcomes), *requests-len(outcomes)
	s.Seconds = math.Round(time.Since(start).Seconds()*1000) / 1000
	out, _ := json.MarshalIndent(s, "", "  ")
	fmt.Println(string(out))
	return 0
}

// once sends one request of a load run.
func once(ctx context.Context, client *http.Client, url string, headers headerFlags, timeout time.Duration) outcome {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil) // the URL was checked
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if strings.EqualFold(k, "host") {
			req.Host = v
		} else {
			req.Header.Add(k, v)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return outcome{err: errorKind(err), latency: time.Since(start)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, upstreamBodyLimit))
	resp.Body.Close()
	o := outcome{status: resp.StatusCode, latency: time.Since(start), standin: resp.Header.Get("x-meshstack-standin")}
	if up := resp.Header.Get("x-meshstack-upstreams"); up != "" {
		o.upstreams = strings.Split(up, ",")
	}
	return o
}

// errorKind names a transport error without the URL in it, so equal failures count together.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	var ue *neturl.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func summarize(outcomes []outcome) summary {
	s := summary{Statuses: map[string]int{}, Errors: map[string]int{}, LatencyMs: map[string]float64{},
		Standins: map[string]int{}, Upstreams: map[string]int{}}
	var answered []time.Duration
	for _, o := range outcomes {
		if o.status == 0 {
			s.Statuses["error"]++
			s.Errors[o.err]++
			continue
		}
		s.Statuses[strconv.Itoa(o.status)]++
		answered = append(answered, o.latency)
		if o.standin != "" {
			s.Standins[o.standin]++
		}
		for _, u := range o.upstreams {
			s.Upstreams[u]++
		}
	}
	if len(answered) == 0 {
		return s
	}
	sort.Slice(answered, func(i, j int) bool { return answered[i] < answered[j] })
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }
	rank := func(q float64) time.Duration { return answered[int(math.Ceil(q*float64(len(answered))))-1] }
	var total time.Duration
	for _, d := range answered {
		total += d
	}
	s.LatencyMs["min"], s.LatencyMs["max"] = ms(answered[0]), ms(answered[len(answered)-1])
	s.LatencyMs["mean"] = ms(total / time.Duration(len(answered)))
	s.LatencyMs["p50"], s.LatencyMs["p90"], s.LatencyMs["p99"] = ms(rank(0.5)), ms(rank(0.9)), ms(rank(0.99))
	return s
}
