#ifndef GATEWAY_CCURL_SHIM_H
#define GATEWAY_CCURL_SHIM_H
// The gcc type-check macros expect a constant option; these shims pass options through.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

// curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic C functions, which Swift
// cannot call. Each shim below fixes one argument type so Swift gets a typed, non-variadic entry
// point. All are prefixed gw_ so they never collide with libcurl's own symbols.

static inline CURLcode gw_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode gw_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode gw_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode gw_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode gw_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*gw_write_callback)(char *data, size_t size, size_t count, void *userdata);

static inline CURLcode gw_easy_setopt_write_function(CURL *handle, CURLoption option, gw_write_callback fn) {
    return curl_easy_setopt(handle, option, fn);
}

// The read callback (an upload's source) has the same shape as the write callback.
static inline CURLcode gw_easy_setopt_read_function(CURL *handle, CURLoption option, gw_write_callback fn) {
    return curl_easy_setopt(handle, option, fn);
}

// The pre-request callback: libcurl calls it each time it is about to send a request on a
// connection, again when it sends the same request anew by itself (a kept-alive connection that
// died before the answer, an HTTP/2 stream the server refused). The client refuses that second
// time once bytes of the request went out, so a request never reaches a provider twice within
// one call; libcurl then fails the transfer with CURLE_ABORTED_BY_CALLBACK.
static inline CURLcode gw_easy_setopt_prereq_function(CURL *handle, CURLoption option, curl_prereq_callback fn) {
    return curl_easy_setopt(handle, option, fn);
}

static inline CURLcode gw_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode gw_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode gw_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLMcode gw_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

// The event loop of CurlHTTPClient: libcurl's multi_socket API on an epoll set, so that each turn
// only touches the transfers whose sockets are ready (curl_multi_perform visits, and polls, every
// transfer on every call). The callbacks are plain C so no Swift state crosses into libcurl.
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

static inline int64_t gw_monotonic_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/// What the multi_socket callbacks share with the loop: the epoll set, and libcurl's timer as a
/// gw_monotonic_ms() deadline (-1 for none).
typedef struct {
    CURLM *multi;
    int epfd;
    int64_t deadline;
} gw_event_loop;

static int gw_socket_callback(CURL *easy, curl_socket_t socket, int what, void *userp, void *socketp) {
    (void)easy;
    gw_event_loop *loop = (gw_event_loop *)userp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, socket, NULL);
        curl_multi_assign(loop->multi, socket, NULL);
        return 0;
    }
    struct epoll_event event = {0};
    event.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    event.data.fd = socket;
    // socketp is set once the socket is in the epoll set.
    if (socketp != NULL) {
        epoll_ctl(loop->epfd, EPOLL_CTL_MOD, socket, &event);
    } else {
        epoll_ctl(loop->epfd, EPOLL_CTL_ADD, socket, &event);
        curl_multi_assign(loop->multi, socket, (void *)1);
    }
    return 0;
}

static int gw_timer_callback(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi;
    ((gw_event_loop *)userp)->deadline = timeout_ms < 0 ? -1 : gw_monotonic_ms() + timeout_ms;
    return 0;
}

/// Wires `loop->multi` to the epoll set `loop->epfd`.
static inline CURLMcode gw_multi_use_epoll(gw_event_loop *loop) {
    CURLMcode code = curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, gw_socket_callback);
    if (code == CURLM_OK) code = curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, (void *)loop);
    if (code == CURLM_OK) code = curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, gw_timer_callback);
    if (code == CURLM_OK) code = curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, (void *)loop);
    return code;
}

static inline int gw_epoll_add_reader(int epfd, int fd) {
    struct epoll_event event = {0};
    event.events = EPOLLIN;
    event.data.fd = fd;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

/// epoll_wait into plain arrays (struct epoll_event is packed, which Swift imports awkwardly).
/// `bits` gets CURL_CSELECT_* values.
static inline int gw_epoll_wait(int epfd, int *fds, int *bits, int capacity, int timeout_ms) {
    struct epoll_event events[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(epfd, events, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        fds[i] = events[i].data.fd;
        bits[i] = ((events[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0)
                | ((events[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0)
                | ((events[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
    }
    return count;
}

static inline void gw_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t ignored = write(fd, &one, sizeof one);
    (void)ignored;
}

static inline void gw_eventfd_drain(int fd) {
    uint64_t value;
    ssize_t ignored = read(fd, &value, sizeof value);
    (void)ignored;
}

static inline int gw_eventfd_open(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static inline int gw_epoll_open(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

static inline curl_socket_t gw_socket_timeout(void) { return CURL_SOCKET_TIMEOUT; }

#endif
