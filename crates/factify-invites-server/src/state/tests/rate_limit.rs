//! Rate limits and call counts.

use super::*;

#[test]
fn rate_limits_per_key_on_a_sliding_window() {
    let mut w = world();
    w.state.set_rate_limits(Some(RateLimits {
        requests_per_minute: 3,
        creates_per_minute: 1,
    }));
    let admin = w.admin.clone();
    w.state.check_rate(&admin, Method::Create, w.now()).unwrap();
    let error = w
        .state
        .check_rate(&admin, Method::Create, w.now())
        .unwrap_err();
    assert_eq!(
        (error.code, error.reason),
        (Code::ResourceExhausted, "rate_limit_exceeded")
    );
    assert_eq!(
        error.rate_limited.unwrap().retry_after,
        TimeDelta::minutes(1)
    );
    w.clock.advance(TimeDelta::seconds(20));
    w.state.check_rate(&admin, Method::List, w.now()).unwrap();
    w.state.check_rate(&admin, Method::List, w.now()).unwrap();
    let error = w
        .state
        .check_rate(&admin, Method::List, w.now())
        .unwrap_err();
    let limited = error.rate_limited.unwrap();
    assert_eq!(limited.limit, 3);
    assert_eq!(limited.retry_after, TimeDelta::seconds(40));
    // Another key has its own window.
    let other = w.account("x@acme.example", Permissions::ALL, true);
    w.state.check_rate(&other, Method::List, w.now()).unwrap();
    // The first call leaves the window after 60 seconds.
    w.clock.advance(TimeDelta::seconds(40));
    w.state.check_rate(&admin, Method::Create, w.now()).unwrap();
}

#[test]
fn calls_are_counted() {
    let mut w = world();
    w.state.count_call(Method::Create);
    w.state.count_call(Method::Create);
    w.state.count_call(Method::Accept);
    assert_eq!(w.state.call_count(Method::Create), 2);
    assert_eq!(w.state.call_count(Method::List), 0);
    assert_eq!(w.state.total_calls(), 3);
}
