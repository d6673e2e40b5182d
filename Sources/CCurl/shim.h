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

static inline CURLcode gw_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode gw_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLMcode gw_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

#endif
