/*
 * selfcheck.c: looks for a deployed challenge the way the CA will, from
 * this host: a TXT query through the system resolver (libresolv) or the
 * nameserver in EXTAUTH_DNS_SERVER, the same asked of every authoritative
 * nameserver of the record's zone (found from that resolver through SOA
 * and NS lookups, as lego does), and an HTTP GET (libcurl) capped in
 * time and size.  Owns nothing past a call: every handle is closed before
 * returning.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "log.h"
#include "selfcheck.h"

#define SELFCHECK_DNS_ANSWER_MAX	65536	/* a whole DNS message */
#define SELFCHECK_TXT_MAX		1024	/* longer TXT never matches */
#define SELFCHECK_DNS_RETRANS		2	/* seconds per try */
#define SELFCHECK_DNS_RETRY		2	/* tries per server */
#define SELFCHECK_HTTP_REDIRS		10	/* as Let's Encrypt */
#define SELFCHECK_NS_MAX		8	/* nameservers asked per zone */

static void	say(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Writes the reason into why, if the caller wants one. */
static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

bool
selfcheck_resolver_valid(const char *s)
{
	char		 host[INET_ADDRSTRLEN], *end;
	const char	*colon = strchr(s, ':');
	struct in_addr	 addr;
	size_t		 len = colon ? (size_t)(colon - s) : strlen(s);
	long		 port;

	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno != 0 || end == colon + 1 || *end != '\0' ||
		    port < 1 || port > 65535)
			return false;
	}
	if (len >= sizeof host)
		return false;
	memcpy(host, s, len);
	host[len] = '\0';
	return inet_pton(AF_INET, host, &addr) == 1;
}

/*
 * Replaces the resolver's nameservers by resolver (--dns-resolver, passed
 * down by the caller) or else EXTAUTH_DNS_SERVER ("IPv4" or "IPv4:PORT")
 * when set.  -1 (with why) when it is set but malformed.
 */
static int
dns_server(res_state st, const char *resolver, char *why, size_t whylen)
{
	const char	*env = resolver ? resolver :
			    getenv("EXTAUTH_DNS_SERVER"), *colon;
	char		 host[INET_ADDRSTRLEN], *end;
	struct in_addr	 addr;
	size_t		 len;
	long		 port = NS_DEFAULTPORT;
	int		 rc = -1;

	if (env == NULL || *env == '\0')
		return 0;
	colon = strchr(env, ':');
	len = colon ? (size_t)(colon - env) : strlen(env);
	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno != 0 || end == colon + 1 || *end != '\0' ||
		    port < 1 || port > 65535)
			goto out;
	}
	if (len >= sizeof host)
		goto out;
	memcpy(host, env, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, &addr) != 1)
		goto out;
	memset(&st->nsaddr_list[0], 0, sizeof st->nsaddr_list[0]);
	st->nsaddr_list[0].sin_family = AF_INET;
	st->nsaddr_list[0].sin_addr = addr;
	st->nsaddr_list[0].sin_port = htons((unsigned short)port);
	st->nscount = 1;
	rc = 0;
out:
	if (rc == -1)
		say(why, whylen, "DNS resolver \"%.64s\" is not IPv4:PORT",
		    env);
	return rc;
}

/*
 * Joins the character-strings of one TXT rdata into buf (NUL-terminated);
 * returns the length, or -1 when the rdata is malformed or too long.
 */
static long
txt_join(const unsigned char *rd, size_t rdlen, char *buf, size_t buflen)
{
	size_t	i = 0, n = 0, len;

	while (i < rdlen) {
		len = rd[i++];
		if (len > rdlen - i || len >= buflen - n)
			return -1;
		memcpy(buf + n, rd + i, len);
		n += len;
		i += len;
	}
	buf[n] = '\0';
	return (long)n;
}

static const char *
dns_failure(int herr)
{
	switch (herr) {
	case HOST_NOT_FOUND:
		return "NXDOMAIN";
	case NO_DATA:
		return "no TXT record";
	case TRY_AGAIN:
		/* glibc also lands here when the server did answer, but
		 * with an empty non-authoritative, non-recursive reply
		 * (taken for a referral), as pebble-challtestsrv does. */
		return "no usable answer from the nameserver";
	default:
		return "the nameserver refused or failed the query";
	}
}

/*
 * Opens a resolver state in st asking resolver (or EXTAUTH_DNS_SERVER, or
 * the system's nameservers).  -1 with why; on success the caller closes
 * st with res_nclose.
 */
static int
dns_open(res_state st, const char *resolver, char *why, size_t whylen)
{
	memset(st, 0, sizeof *st);
	if (res_ninit(st) == -1) {
		say(why, whylen, "cannot initialise the resolver");
		return -1;
	}
	st->retrans = SELFCHECK_DNS_RETRANS;
	st->retry = SELFCHECK_DNS_RETRY;
	if (dns_server(st, resolver, why, whylen) == -1) {
		res_nclose(st);
		return -1;
	}
	return 0;
}

/*
 * Asks st for the records of type at name and parses the answer into msg
 * (over ans, SELFCHECK_DNS_ANSWER_MAX bytes the caller owns).  -1 with
 * why when there is no usable answer.
 */
static int
dns_ask(res_state st, const char *name, int type, unsigned char *ans,
    ns_msg *msg, char *why, size_t whylen)
{
	int	len;

	len = res_nquery(st, name, ns_c_in, type, ans,
	    SELFCHECK_DNS_ANSWER_MAX);
	if (len < 0) {
		say(why, whylen, "%s", dns_failure(st->res_h_errno));
		return -1;
	}
	if (ns_initparse(ans, len, msg) == -1) {
		say(why, whylen, "unparsable DNS answer");
		return -1;
	}
	return 0;
}

/* Whether the answer section of msg holds a TXT record whose strings
 * joined are value; why says what it held when not. */
static bool
answer_has_txt(ns_msg *msg, const char *value, char *why, size_t whylen)
{
	char	txt[SELFCHECK_TXT_MAX];
	ns_rr	rr;
	size_t	vlen = strlen(value);
	long	tlen;
	int	i, count, ntxt = 0;

	count = ns_msg_count(*msg, ns_s_an);
	for (i = 0; i < count; i++) {
		if (ns_parserr(msg, ns_s_an, i, &rr) == -1) {
			say(why, whylen, "unparsable DNS answer");
			return false;
		}
		/* A CNAME chain ends in the TXT records we want. */
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue;
		ntxt++;
		tlen = txt_join(ns_rr_rdata(rr), ns_rr_rdlen(rr), txt,
		    sizeof txt);
		if (tlen >= 0 && (size_t)tlen == vlen &&
		    memcmp(txt, value, vlen) == 0)
			return true;
	}
	if (ntxt == 0)
		say(why, whylen, "no TXT record");
	else
		say(why, whylen, "%d TXT record%s, none with the expected "
		    "value", ntxt, ntxt == 1 ? "" : "s");
	return false;
}

bool
selfcheck_dns_txt(const char *resolver, const char *fqdn, const char *value,
    char *why, size_t whylen)
{
	struct __res_state	 st;
	unsigned char		*ans = NULL;
	ns_msg			 msg;
	bool			 found = false;

	if (dns_open(&st, resolver, why, whylen) == -1)
		goto out;
	if ((ans = malloc(SELFCHECK_DNS_ANSWER_MAX)) == NULL)
		say(why, whylen, "out of memory");
	else if (dns_ask(&st, fqdn, ns_t_txt, ans, &msg, why, whylen) == 0)
		found = answer_has_txt(&msg, value, why, whylen);
	res_nclose(&st);
out:
	free(ans);
	log_debug("self-check TXT %s: %s", fqdn, found ? "found" : "not found");
	return found;
}

/* The zone's nameservers: their names and IPv4 addresses. */
struct auth_ns {
	char		name[NS_MAXDNAME];
	struct in_addr	addr;
};

/*
 * The zone fqdn lies in, as lego finds it: from fqdn itself up, label by
 * label, the first name whose SOA query answers with that name's SOA in
 * the answer section (an NXDOMAIN for the challenge name, a CNAME, or a
 * parent's SOA in the authority section do not count).  -1 with why.
 */
static int
find_zone(res_state st, const char *fqdn, unsigned char *ans, char *zone,
    size_t zonelen, char *why, size_t whylen)
{
	const char	*name = fqdn;
	ns_msg		 msg;
	ns_rr		 rr;
	int		 i, count;

	while (name != NULL && *name != '\0') {
		if (dns_ask(st, name, ns_t_soa, ans, &msg, why, whylen) == 0) {
			count = ns_msg_count(msg, ns_s_an);
			for (i = 0; i < count; i++)
				if (ns_parserr(&msg, ns_s_an, i, &rr) == 0 &&
				    ns_rr_type(rr) == ns_t_soa &&
				    strcasecmp(ns_rr_name(rr), name) == 0) {
					snprintf(zone, zonelen, "%s", name);
					return 0;
				}
		}
		if ((name = strchr(name, '.')) != NULL)
			name++;
	}
	say(why, whylen, "no SOA record above %.200s", fqdn);
	return -1;
}

/*
 * The NS names of zone and the first IPv4 address of each, through st;
 * at most max.  The count (0 with why when none resolves).
 */
static int
zone_nameservers(res_state st, const char *zone, unsigned char *ans,
    struct auth_ns *ns, int max, char *why, size_t whylen)
{
	char	names[SELFCHECK_NS_MAX][NS_MAXDNAME];
	ns_msg	msg;
	ns_rr	rr;
	int	i, j, count, nnames = 0, n = 0;

	if (dns_ask(st, zone, ns_t_ns, ans, &msg, why, whylen) == -1)
		return 0;
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count && nnames < SELFCHECK_NS_MAX; i++)
		if (ns_parserr(&msg, ns_s_an, i, &rr) == 0 &&
		    ns_rr_type(rr) == ns_t_ns && ns_name_uncompress(
		    ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr),
		    names[nnames], sizeof names[nnames]) != -1)
			nnames++;
	/* The answer buffer is reused for each address query. */
	for (i = 0; i < nnames && n < max; i++) {
		if (dns_ask(st, names[i], ns_t_a, ans, &msg, why, whylen) ==
		    -1)
			continue;
		count = ns_msg_count(msg, ns_s_an);
		for (j = 0; j < count; j++)
			if (ns_parserr(&msg, ns_s_an, j, &rr) == 0 &&
			    ns_rr_type(rr) == ns_t_a && ns_rr_rdlen(rr) == 4) {
				memcpy(ns[n].name, names[i],
				    sizeof ns[n].name);
				memcpy(&ns[n].addr, ns_rr_rdata(rr), 4);
				n++;
				break;
			}
	}
	if (n == 0)
		say(why, whylen, "no nameserver of %.200s has an IPv4 address",
		    zone);
	return n;
}

/* EXTAUTH_DNS_AUTH_PORT, else 53: the port the zone's nameservers are
 * asked on (a test knob: loopback nameservers on a free port). */
static unsigned short
auth_port(void)
{
	const char	*env = getenv("EXTAUTH_DNS_AUTH_PORT");
	char		*end;
	long		 port;

	if (env == NULL || *env == '\0')
		return NS_DEFAULTPORT;
	errno = 0;
	port = strtol(env, &end, 10);
	if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
		return NS_DEFAULTPORT;
	return (unsigned short)port;
}

/* Whether the nameserver ns itself (no recursion) serves value at fqdn. */
static bool
ns_serves(const struct auth_ns *ns, const char *fqdn, const char *value,
    unsigned char *ans, char *why, size_t whylen)
{
	struct __res_state	st;
	ns_msg			msg;
	char			reason[128] = "";
	bool			ok = false;

	if (dns_open(&st, NULL, why, whylen) == -1)
		return false;
	memset(&st.nsaddr_list[0], 0, sizeof st.nsaddr_list[0]);
	st.nsaddr_list[0].sin_family = AF_INET;
	st.nsaddr_list[0].sin_addr = ns->addr;
	st.nsaddr_list[0].sin_port = htons(auth_port());
	st.nscount = 1;
	/* Its own data, as the CA's resolver will get it: no recursion. */
	st.options &= ~(unsigned long)RES_RECURSE;
	if (dns_ask(&st, fqdn, ns_t_txt, ans, &msg, reason,
	    sizeof reason) == 0)
		ok = answer_has_txt(&msg, value, reason, sizeof reason);
	res_nclose(&st);
	if (!ok)
		say(why, whylen, "%s does not serve it yet: %s", ns->name,
		    reason);
	return ok;
}

bool
selfcheck_dns_auth(const char *resolver, const char *fqdn, const char *value,
    char *why, size_t whylen)
{
	struct __res_state	 st;
	struct auth_ns		*ns = NULL;
	unsigned char		*ans = NULL;
	char			 zone[NS_MAXDNAME];
	int			 i, n = 0;
	bool			 ok = false;

	if ((ans = malloc(SELFCHECK_DNS_ANSWER_MAX)) == NULL ||
	    (ns = calloc(SELFCHECK_NS_MAX, sizeof *ns)) == NULL) {
		say(why, whylen, "out of memory");
		goto out;
	}
	if (dns_open(&st, resolver, why, whylen) == -1)
		goto out;
	if (find_zone(&st, fqdn, ans, zone, sizeof zone, why, whylen) == 0)
		n = zone_nameservers(&st, zone, ans, ns, SELFCHECK_NS_MAX, why,
		    whylen);
	res_nclose(&st);
	if (n == 0) {
		/* No zone or nameserver to ask (a resolver that only
		 * answers TXT, as pebble-challtestsrv): its answer counts. */
		log_debug("self-check TXT %s: the zone's nameservers are "
		    "unknown (%s); asking the resolver", fqdn, why);
		ok = selfcheck_dns_txt(resolver, fqdn, value, why, whylen);
		goto out;
	}
	for (i = 0, ok = true; i < n && ok; i++)
		ok = ns_serves(&ns[i], fqdn, value, ans, why, whylen);
	if (ok)
		log_debug("self-check TXT %s: served by all %d nameservers of "
		    "%s", fqdn, n, zone);
out:
	free(ans);
	free(ns);
	return ok;
}

/* The body of the answer, capped at SELFCHECK_HTTP_BODY_MAX. */
struct selfcheck_body {
	char	data[SELFCHECK_HTTP_BODY_MAX + 1];
	size_t	len;
	bool	over;
};

static size_t
http_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct selfcheck_body	*b = arg;
	size_t			 n = size * nmemb;

	if (n > SELFCHECK_HTTP_BODY_MAX - b->len) {
		b->over = true;
		return 0;	/* stops the transfer */
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* curl_global_init once per process (extauth is single-threaded). */
static bool
http_ready(void)
{
	static bool	done;

	if (!done && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		done = true;
	return done;
}

/* EXTAUTH_HTTP_PORT as a port; 0 when unset, -1 when malformed. */
static long
http_port(void)
{
	const char	*env = getenv("EXTAUTH_HTTP_PORT");
	char		*end;
	long		 port;

	if (env == NULL || *env == '\0')
		return 0;
	errno = 0;
	port = strtol(env, &end, 10);
	if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
		return -1;
	return port;
}

bool
selfcheck_http(const char *uri, const char *expected, char *why,
    size_t whylen)
{
	struct selfcheck_body	*b = NULL;
	CURL			*c = NULL;
	CURLcode		 rc = CURLE_OK;
	char			 errbuf[CURL_ERROR_SIZE] = "";
	long			 status = 0, port;
	size_t			 len;
	bool			 ok = false;

	if ((port = http_port()) == -1) {
		say(why, whylen, "EXTAUTH_HTTP_PORT is not a port number");
		goto out;
	}
	if ((b = calloc(1, sizeof *b)) == NULL || !http_ready() ||
	    (c = curl_easy_init()) == NULL) {
		say(why, whylen, "cannot set up an HTTP request");
		goto out;
	}
	/* The CA follows redirects and ignores certificate errors on an
	 * https redirect target; so does this look. */
#define SETOPT(o, v)	do {					\
	if (rc == CURLE_OK)					\
		rc = curl_easy_setopt(c, o, v);			\
} while (0)
	SETOPT(CURLOPT_URL, uri);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_TIMEOUT_MS, (long)SELFCHECK_HTTP_TIMEOUT_MS);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
	SETOPT(CURLOPT_MAXREDIRS, (long)SELFCHECK_HTTP_REDIRS);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 0L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 0L);
	SETOPT(CURLOPT_USERAGENT, "extauth-selfcheck");
	SETOPT(CURLOPT_WRITEFUNCTION, http_body);
	SETOPT(CURLOPT_WRITEDATA, b);
	if (port > 0)
		SETOPT(CURLOPT_PORT, port);
#undef SETOPT
	if (rc != CURLE_OK) {
		say(why, whylen, "cannot set up an HTTP request: %s",
		    curl_easy_strerror(rc));
		goto out;
	}
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		if (b->over)
			say(why, whylen, "answer over %d bytes",
			    SELFCHECK_HTTP_BODY_MAX);
		else
			say(why, whylen, "%s", errbuf[0] != '\0' ? errbuf :
			    curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		say(why, whylen, "HTTP status %ld", status);
		goto out;
	}
	len = b->len;
	while (len > 0 && isspace((unsigned char)b->data[len - 1]))
		len--;
	if (len != strlen(expected) || memcmp(b->data, expected, len) != 0) {
		say(why, whylen, "the file has other content");
		goto out;
	}
	ok = true;
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	free(b);
	log_debug("self-check GET %s: %s", uri, ok ? "found" : "not found");
	return ok;
}
