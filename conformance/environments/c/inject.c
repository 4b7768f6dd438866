/*
 * inject: an LD_PRELOAD library that makes the C library's limit and usage calls fail on demand,
 * so the suite can check what a resource module does when the system call fails "unexpectedly".
 *
 *   RCKIT_FAIL_RESOURCE=N  getrlimit/setrlimit/prlimit (and their 64-bit names) on resource N
 *                          fail with errno RCKIT_FAIL_ERRNO (default EIO).
 *   RCKIT_FAIL_WHO=N       getrusage (and __getrusage64) with who N fail the same way.
 *
 * Every other call goes to the next definition (the real C library). Declarations are written out
 * here rather than taken from <sys/resource.h>, whose prototypes vary with the ABI switches.
 * Build: cc -shared -fPIC -o inject.so inject.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>

static int matches(const char *variable, int value) {
    const char *text = getenv(variable);
    return text != NULL && *text != '\0' && atoi(text) == value;
}

static int fail(void) {
    const char *text = getenv("RCKIT_FAIL_ERRNO");
    errno = (text != NULL && *text != '\0') ? atoi(text) : EIO;
    return -1;
}

static void *next(const char *name) {
    return dlsym(RTLD_NEXT, name);
}

#define MISSING() (errno = ENOSYS, -1)

/* Define `name` with parameters `params`: fail when the environment variable `variable` names the
 * argument `key`, else call the next definition of `name` (of type int (*)`types`) with `args`. */
#define INTERPOSE(name, variable, key, params, types, args) \
    int name params { \
        int (*real) types = (int (*) types)next(#name); \
        if (matches(variable, key)) return fail(); \
        return real ? real args : MISSING(); \
    }

#define GET_OR_SET(name) \
    INTERPOSE(name, "RCKIT_FAIL_RESOURCE", resource, (int resource, void *limits), (int, void *), (resource, limits))
#define PRLIMIT(name) \
    INTERPOSE(name, "RCKIT_FAIL_RESOURCE", resource, (pid_t pid, int resource, const void *new_limits, void *old_limits), \
              (pid_t, int, const void *, void *), (pid, resource, new_limits, old_limits))
#define GETRUSAGE(name) INTERPOSE(name, "RCKIT_FAIL_WHO", who, (int who, void *usage), (int, void *), (who, usage))

GET_OR_SET(getrlimit)
GET_OR_SET(getrlimit64)
GET_OR_SET(setrlimit)
GET_OR_SET(setrlimit64)
PRLIMIT(prlimit)
PRLIMIT(prlimit64)
GETRUSAGE(getrusage)
GETRUSAGE(__getrusage64)
