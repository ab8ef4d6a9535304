package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// forwardedHeaders are the request headers passed on to upstreams, as Bookinfo does (the end user,
// Istio's request id, and the B3 / W3C / OpenTracing trace context).
var forwardedHeaders = []string{
	"end-user", "x-request-id", "traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid",
	"x-b3-parentspanid", "x-b3-sampled", "x-b3-flags", "x-ot-span-context",
}

// reviewsStars is the star colour of each reviews version that calls ratings, and its timeout for
// that call (upstream's reviews: 10 s when the stars are black, 2.5 s otherwise); v1 calls nobody.
var reviewsStars = map[string]struct {
	color   string
	timeout time.Duration
}{
	"v2": {"black", 10 * time.Second},
	"v3": {"red", 2500 * time.Millisecond},
}

const upstreamBodyLimit = 1 << 20

// directClient sends requests straight to their address, never through an HTTP proxy from the
// environment: in a pod the sidecar is what intercepts them.
func directClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	return &http.Client{Transport: t}
}

// standin is one serving service-version.
type standin struct {
	service, version, name string
	knobs
	client *http.Client
	served atomic.Uint64 // requests on the service's own routes so far (the error share's count)
}

func serve(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	service := fs.String("service", "", "productpage, details, reviews or ratings")
	version := fs.String("version", "", "the version this stand-in answers as (reviews: v1, v2 or v3)")
	listen := fs.String("listen", ":9080", "listen address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch *service {
	case "productpage", "details", "ratings":
	case "reviews":
		if _, ok := reviewsStars[*version]; !ok && *version != "v1" {
			fmt.Fprintf(os.Stderr, "bookinfo-standin: reviews has versions v1, v2 and v3, not %q\n", *version)
			return 2
		}
	default:
		fmt.Fprintf(os.Stderr, "bookinfo-standin: --service must be productpage, details, reviews or ratings, not %q\n", *service)
		return 2
	}
	if *version == "" {
		fmt.Fprintln(os.Stderr, "bookinfo-standin: --version is required")
		return 2
	}
	k, err := readKnobs()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bookinfo-standin:", err)
		return 2
	}
	s := &standin{service: *service, version: *version, name: *service + "-" + *version, knobs: k, client: directClient()}
	log.SetOutput(os.Stderr)
	log.SetPrefix(s.name + " ")

	if s.callAtStart != "" {
		if err := s.callOnce(s.callAtStart); err != nil {
			log.Printf("STANDIN_CALL_AT_START %s failed: %v", s.callAtStart, err)
			return 1
		}
		log.Printf("STANDIN_CALL_AT_START %s answered", s.callAtStart)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Print(err)
		return 1
	}
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("bookinfo-standin %s listening on %s\n", s.name, ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		log.Print(err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Printf("shutdown: %v", err)
		return 1
	}
	return 0
}

// callOnce is STANDIN_CALL_AT_START: one GET that must answer 2xx within 5 s.
func (s *standin) callOnce(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, upstreamBodyLimit))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func (s *standin) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": s.service + " is healthy", "standin": s.name})
	})
	own := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.knobbed(h)) }
	switch s.service {
	case "productpage":
		own("GET /{$}", s.index)
		own("GET /productpage", s.productPage)
		own("GET /login", s.login)
		own("POST /login", s.login)
		own("GET /logout", s.logout)
		own("GET /api/v1/products", s.products)
		own("GET /api/v1/products/{id}", s.passthrough("details", "/details/"))
		own("GET /api/v1/products/{id}/reviews", s.passthrough("reviews", "/reviews/"))
		own("GET /api/v1/products/{id}/ratings", s.passthrough("ratings", "/ratings/"))
	case "details":
		own("GET /details/{id}", s.details)
	case "reviews":
		own("GET /reviews/{id}", s.reviews)
	case "ratings":
		own("GET /ratings/{id}", s.ratings)
	}
	return s.logged(mux)
}

// statusRecorder remembers the status a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// logged names the stand-in on every response and logs the request.
func (s *standin) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w.Header().Set("x-meshstack-standin", s.name)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.Printf("%s %s %d %dms end-user=%q x-request-id=%q", r.Method, r.URL.RequestURI(), rec.status,
			time.Since(start).Milliseconds(), r.Header.Get("end-user"), r.Header.Get("x-request-id"))
	})
}

// knobbed applies STANDIN_DELAY and STANDIN_ERROR_RATE to one of the service's own routes.
func (s *standin) knobbed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.served.Add(1)
		if s.delay > 0 {
			t := time.NewTimer(s.delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if math.Floor(float64(n)*s.errorRate) > math.Floor(float64(n-1)*s.errorRate) {
			writeJSON(w, s.errorStatus, map[string]string{"error": "injected by STANDIN_ERROR_RATE", "standin": s.name})
			return
		}
		h(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// received is the forwarded headers a request carried (shown in JSON answers).
func received(r *http.Request) map[string]string {
	out := map[string]string{}
	for _, h := range forwardedHeaders {
		if v := r.Header.Get(h); v != "" {
			out[h] = v
		}
	}
	return out
}

func endUser(r *http.Request) string {
	if u := r.Header.Get("end-user"); u != "" {
		return u
	}
	if c, err := r.Cookie("user"); err == nil {
		return c.Value
	}
	return ""
}

// call is one upstream request as an answer reports it.
type call struct {
	URL      string          `json:"url"`
	Status   int             `json:"status"` // 0: no answer
	Standin  string          `json:"standin,omitempty"`
	Millis   int64           `json:"millis"`
	Attempts int             `json:"attempts"`
	Error    string          `json:"error,omitempty"`
	Body     json.RawMessage `json:"body,omitempty"`
}

func (c call) OK() bool { return c.Status == http.StatusOK }

// get calls an upstream with the request's forwarded headers: up to `attempts` tries of `timeout`
// each, stopping at the first 200.
func (s *standin) get(r *http.Request, url string, timeout time.Duration, attempts int) call {
	c := call{URL: url}
	start := time.Now()
	for c.Attempts < attempts {
		c.Attempts++
		c.Status, c.Standin, c.Error, c.Body = 0, "", "", nil
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			cancel()
			c.Error = err.Error()
			break
		}
		for _, h := range forwardedHeaders {
			if v := r.Header.Get(h); v != "" {
				req.Header.Set(h, v)
			}
		}
		if u := endUser(r); u != "" {
			req.Header.Set("end-user", u)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			c.Error = err.Error()
		} else {
			body, readErr := io.ReadAll(io.LimitReader(resp.Body, upstreamBodyLimit))
			resp.Body.Close()
			c.Status, c.Standin = resp.StatusCode, resp.Header.Get("x-meshstack-standin")
			if readErr != nil {
				c.Error = readErr.Error()
			}
			if json.Valid(body) {
				c.Body = body
			}
		}
		cancel()
		if c.OK() {
			break
		}
	}
	c.Millis = time.Since(start).Milliseconds()
	return c
}

// upstreamsHeader sets x-meshstack-upstreams to the stand-ins of the 200 answers among calls.
func upstreamsHeader(w http.ResponseWriter, calls ...call) {
	var names []string
	for _, c := range calls {
		if c.OK() && c.Standin != "" {
			names = append(names, c.Standin)
		}
	}
	if len(names) > 0 {
		w.Header().Set("x-meshstack-upstreams", strings.Join(names, ","))
	}
}

func productID(r *http.Request) (int, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	return id, err == nil
}

// ---------------------------------------------------------------- details and ratings

func (s *standin) details(w http.ResponseWriter, r *http.Request) {
	id, ok := productID(r)
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "please provide numeric product id", "standin": s.name})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "author": "William Shakespeare", "year": 1595, "type": "paperback", "pages": 200,
		"publisher": "PublisherA", "language": "English", "ISBN-10": "1234567890", "ISBN-13": "123-1234567890",
		"standin": s.name, "version": s.version, "received": received(r),
	})
}

func (s *standin) ratings(w http.ResponseWriter, r *http.Request) {
	id, ok := productID(r)
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "please provide numeric product id", "standin": s.name})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "ratings": map[string]int{"Reviewer1": 5, "Reviewer2": 4},
		"standin": s.name, "version": s.version, "received": received(r),
	})
}

// ---------------------------------------------------------------- reviews

type review struct {
	Reviewer string         `json:"reviewer"`
	Text     string         `json:"text"`
	Rating   map[string]any `json:"rating,omitempty"`
}

type reviewsAnswer struct {
	ID       string            `json:"id"`
	Podname  string            `json:"podname"`
	Reviews  []review          `json:"reviews"`
	Standin  string            `json:"standin"`
	Version  string            `json:"version"`
	Received map[string]string `json:"received"`
	Ratings  *call             `json:"ratings,omitempty"` // v2 and v3: how ratings answered
}

func (s *standin) reviews(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	answer := reviewsAnswer{
		ID: id, Podname: os.Getenv("HOSTNAME"), Standin: s.name, Version: s.version, Received: received(r),
		Reviews: []review{
			{Reviewer: "Reviewer1", Text: "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"},
			{Reviewer: "Reviewer2", Text: "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."},
		},
	}
	if stars, calls := reviewsStars[s.version]; calls {
		c := s.get(r, s.upstreams["ratings"]+"/ratings/"+id, stars.timeout, 1)
		var body struct {
			Ratings map[string]int `json:"ratings"`
		}
		if c.OK() && json.Unmarshal(c.Body, &body) == nil {
			for i := range answer.Reviews {
				answer.Reviews[i].Rating = map[string]any{"stars": body.Ratings[answer.Reviews[i].Reviewer], "color": stars.color}
			}
		} else {
			for i := range answer.Reviews {
				answer.Reviews[i].Rating = map[string]any{"error": "Ratings service is currently unavailable"}
			}
		}
		c.Body = nil // the stars above are what reviews took from it
		answer.Ratings = &c
		upstreamsHeader(w, c)
	}
	writeJSON(w, http.StatusOK, answer)
}

// ---------------------------------------------------------------- productpage

const productTitle = "The Comedy of Errors"

func (s *standin) products(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []map[string]any{{
		"id": 0, "title": productTitle,
		"descriptionHtml": "<a href=\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\">Wikipedia Summary</a>: " +
			"The Comedy of Errors is one of William Shakespeare's early plays.",
	}})
}

// passthrough answers with an upstream's answer for the product in the path.
func (s *standin) passthrough(service, path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := productID(r)
		if !ok {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "please provide numeric product id", "standin": s.name})
			return
		}
		c := s.get(r, s.upstreams[service]+path+strconv.Itoa(id), 3*time.Second, 1)
		upstreamsHeader(w, c)
		if c.Status == 0 || c.Body == nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": service + " is unavailable", "call": c, "standin": s.name})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(c.Status)
		_, _ = w.Write(c.Body)
	}
}

// page is what /productpage shows.
type page struct {
	Standin        string `json:"standin"`
	User           string `json:"user,omitempty"`
	Title          string `json:"title"`
	Details        call   `json:"details"`
	Reviews        call   `json:"reviews"`
	ReviewsVersion string `json:"reviewsVersion,omitempty"` // the version of the reviews stand-in that answered
	Ratings        *call  `json:"ratings"`                  // how ratings answered reviews; null: not called
	// For the HTML page.
	Book       map[string]any `json:"-"`
	ReviewList []review       `json:"-"`
}

func (s *standin) productPage(w http.ResponseWriter, r *http.Request) {
	p := page{Standin: s.name, User: endUser(r), Title: productTitle}
	p.Details = s.get(r, s.upstreams["details"]+"/details/0", 3*time.Second, 1)
	p.Reviews = s.get(r, s.upstreams["reviews"]+"/reviews/0", 3*time.Second, 2)
	if p.Details.OK() {
		_ = json.Unmarshal(p.Details.Body, &p.Book)
	}
	calls := []call{p.Details, p.Reviews}
	if p.Reviews.OK() {
		var body reviewsAnswer
		if json.Unmarshal(p.Reviews.Body, &body) == nil {
			p.ReviewsVersion, p.Ratings, p.ReviewList = body.Version, body.Ratings, body.Reviews
			if body.Ratings != nil {
				calls = append(calls, *body.Ratings)
			}
		}
	}
	upstreamsHeader(w, calls...)
	if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, http.StatusOK, p)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(w, p); err != nil {
		log.Printf("page: %v", err)
	}
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Simple Bookstore App (meshstack stand-in)</title></head>
<body>
<p>meshstack's stand-in for Istio's Bookinfo productpage ({{.Standin}}).
{{if .User}}Signed in as {{.User}} (<a href="/logout">sign out</a>).{{else}}<a href="/login?user=jason">Sign in as jason</a>.{{end}}</p>
<h1>{{.Title}}</h1>
<h2>Book Details</h2>
{{if .Details.OK}}<dl>{{range $k, $v := .Book}}<dt>{{$k}}</dt><dd>{{$v}}</dd>{{end}}</dl>
{{else}}<p>Sorry, product details are currently unavailable for this book.</p>{{end}}
<h2>Book Reviews</h2>
{{if .Reviews.OK}}{{range .ReviewList}}<blockquote><p>{{.Text}}</p><small>{{.Reviewer}}</small>
{{with .Rating}}{{if .error}}<p>{{.error}}</p>{{else}}<p style="color: {{.color}}">{{.stars}} stars</p>{{end}}{{end}}</blockquote>
{{end}}{{else}}<p>Sorry, product reviews are currently unavailable for this book.</p>{{end}}
<h2>Served by</h2>
<ul>
<li>details: {{with .Details}}{{if .Standin}}{{.Standin}}{{else}}no stand-in{{end}} (status {{.Status}}, {{.Millis}} ms{{if .Error}}, {{.Error}}{{end}}){{end}}</li>
<li>reviews: {{if .ReviewsVersion}}reviews {{.ReviewsVersion}}{{else}}no answer{{end}} {{with .Reviews}}({{.Standin}}, status {{.Status}}, {{.Millis}} ms, {{.Attempts}} attempt(s){{if .Error}}, {{.Error}}{{end}}){{end}}</li>
<li>ratings: {{with .Ratings}}{{if .Standin}}answered by {{.Standin}}{{else}}no answer{{end}} (status {{.Status}}, {{.Millis}} ms{{if .Error}}, {{.Error}}{{end}}){{else}}not called{{end}}</li>
</ul>
</body></html>
`))

func (s *standin) index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><body><p>meshstack's stand-in for Istio's Bookinfo productpage (%s).</p>"+
		"<p><a href=\"/productpage\">Normal user</a> | <a href=\"/login?user=jason\">Test user (jason)</a></p></body></html>\n",
		template.HTMLEscapeString(s.name))
}

func (s *standin) login(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	if user == "" && r.Method == http.MethodPost {
		user = r.PostFormValue("username")
	}
	if user == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "give user=NAME (or the form field username)", "standin": s.name})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "user", Value: user, Path: "/", HttpOnly: true})
	http.Redirect(w, r, "/productpage", http.StatusFound)
}

func (s *standin) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: "user", Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/productpage", http.StatusFound)
}
