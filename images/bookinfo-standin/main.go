// Command bookinfo-standin is meshstack's stand-in for the four services of Istio's Bookinfo sample
// (productpage, details, reviews, ratings) in the embedded test cluster. It is not Istio's Bookinfo:
// it is one small static program that answers the requests a mesh's routing can see as Bookinfo
// does (ports, paths, who calls whom, which headers are forwarded, which version answered), with
// knobs that make a slow or failing canary out of configuration alone. Every response says what
// answered it in the header "x-meshstack-standin: <service>-<version>".
//
// Usage:
//
//	bookinfo-standin serve --service NAME --version VERSION [--listen ADDR]
//	bookinfo-standin load --url URL [--requests N] [--concurrency C] [--timeout T] [--deadline D] [--header K:V]...
//
// # serve
//
// Listens on ADDR (default ":9080", Bookinfo's port), prints "bookinfo-standin <service>-<version>
// listening on <address>" on stdout once it accepts connections, logs one line per request on
// stderr, and stops on SIGTERM or SIGINT (requests in flight get 5 s).
//
// Routes of every service: GET /health answers 200 (the knobs below never touch it, so a failing
// canary stays Ready, as a real one would). Unknown paths answer 404. The service's own routes:
//
//	productpage  GET /                       an index page linking to /productpage
//	             GET /productpage            calls details (GET /details/0) and reviews (GET /reviews/0),
//	                                         forwarding the headers listed below; answers 200 with a page
//	                                         naming which reviews version answered and whether ratings did
//	                                         (HTML; JSON with ?format=json or "Accept: application/json").
//	                                         As upstream: details gets one try of 3 s, reviews two tries of
//	                                         3 s each, and an upstream failure is shown on the page, not
//	                                         returned as an error status.
//	             GET|POST /login?user=NAME   sets the cookie "user" (upstream: a session), redirects to
//	                                         /productpage; POST also takes the form field "username"
//	             GET /logout                 clears it, redirects to /productpage
//	             GET /api/v1/products        the product list
//	             GET /api/v1/products/ID     details' answer for ID; .../ID/reviews and .../ID/ratings
//	                                         reviews' and ratings' answers (upstream calls ratings directly)
//	details      GET /details/ID             the book's details (ID: an integer, else 400)
//	reviews      GET /reviews/ID             two reviews; v1 calls nobody, v2 and v3 call ratings (GET
//	                                         /ratings/ID; upstream's timeouts: 10 s for v2, 2.5 s for v3)
//	                                         and show its stars, black (v2) or red (v3), or "Ratings service
//	                                         is currently unavailable"; the answer says how ratings answered
//	                                         (status, stand-in, milliseconds, error)
//	ratings      GET /ratings/ID             the two reviewers' stars (ID: an integer, else 400)
//
// JSON answers carry "standin", "version" and "received" (the forwarded headers this service got).
// Answers that include upstream calls also carry the header "x-meshstack-upstreams": the stand-ins
// whose 200 answers went into it, comma-separated (productpage: details, reviews and, through
// reviews, ratings).
//
// The end user is the "end-user" request header, else the "user" cookie; productpage forwards it
// as "end-user" (what Bookinfo's routing rules match on). Forwarded to upstreams, as Bookinfo does
// for tracing: end-user, x-request-id, traceparent, tracestate, b3, x-b3-traceid, x-b3-spanid,
// x-b3-parentspanid, x-b3-sampled, x-b3-flags, x-ot-span-context.
//
// Upstream addresses (environment): STANDIN_DETAILS_URL (default http://details:9080),
// STANDIN_REVIEWS_URL (http://reviews:9080), STANDIN_RATINGS_URL (http://ratings:9080): the
// Service names, so the mesh routes every call.
//
// Knobs (environment, read once at start; a bad value stops the program with exit status 2). They
// apply to the service's own routes, not to /health:
//
//	STANDIN_DELAY=DURATION         wait this long (Go duration: 250ms, 2s) before answering
//	STANDIN_ERROR_RATE=FRACTION    answer this share (0 to 1) of requests with STANDIN_ERROR_STATUS
//	                               instead: the n-th request fails when floor(n*rate) grows, so exactly
//	                               floor(n*rate) of the first n fail (deterministic, in any order)
//	STANDIN_ERROR_STATUS=CODE      the status of those answers (default 500)
//	STANDIN_CALL_AT_START=URL      before listening, GET this URL once (5 s timeout); a transport error
//	                               or a non-2xx answer ends the program with exit status 1 (the "app
//	                               starts before its sidecar" case)
//
// # load
//
// Sends N GET requests (default 100, at most 1000000) to URL from C concurrent workers (default 4,
// at most 256), each request bounded by T (default 5s), the whole run by D (default 5m: requests
// not sent by then are counted as notSent); redirects are not followed. --header K:V (repeatable)
// sets a request header ("host:NAME" sets the Host). Prints one JSON summary on stdout: statuses
// (and "error" for requests without an answer), transport errors by kind, latency in milliseconds
// (min, mean, p50, p90, p99, max over answered requests), and how often each stand-in answered
// ("standins": the x-meshstack-standin header; "upstreams": the x-meshstack-upstreams entries).
// Exit status 0 when the run ended, 2 on a usage error.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "serve":
		os.Exit(serve(os.Args[2:]))
	case "load":
		os.Exit(load(os.Args[2:]))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: bookinfo-standin serve --service NAME --version VERSION [--listen ADDR]")
	fmt.Fprintln(os.Stderr, "       bookinfo-standin load --url URL [--requests N] [--concurrency C] [--timeout T] [--deadline D] [--header K:V]...")
	os.Exit(2)
}

// knobs are the STANDIN_* settings of a serving stand-in.
type knobs struct {
	delay       time.Duration
	errorRate   float64
	errorStatus int
	callAtStart string
	upstreams   map[string]string // service name -> base URL
}

func readKnobs() (knobs, error) {
	k := knobs{errorStatus: 500, callAtStart: os.Getenv("STANDIN_CALL_AT_START"), upstreams: map[string]string{}}
	if v := os.Getenv("STANDIN_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return k, fmt.Errorf("STANDIN_DELAY=%q: want a duration such as 250ms or 2s", v)
		}
		k.delay = d
	}
	if v := os.Getenv("STANDIN_ERROR_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			return k, fmt.Errorf("STANDIN_ERROR_RATE=%q: want a fraction between 0 and 1", v)
		}
		k.errorRate = r
	}
	if v := os.Getenv("STANDIN_ERROR_STATUS"); v != "" {
		s, err := strconv.Atoi(v)
		if err != nil || s < 100 || s > 599 {
			return k, fmt.Errorf("STANDIN_ERROR_STATUS=%q: want an HTTP status code", v)
		}
		k.errorStatus = s
	}
	for _, svc := range []string{"details", "reviews", "ratings"} {
		k.upstreams[svc] = "http://" + svc + ":9080"
		if v := os.Getenv("STANDIN_" + strings.ToUpper(svc) + "_URL"); v != "" {
			k.upstreams[svc] = v
		}
	}
	return k, nil
}
