"""Every redaction layer, with the exact text expected written out by hand.

Why: error lines and report names go to CI logs, and a redaction that keeps one character
too many (a password after ``:``, a query value, a bare bearer token) leaks a credential.
Each test states the input and the exact output; a last property test checks that no
generated secret survives the layers that promise to remove it.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from connectors.spark_eventlog import errors as eventlog_errors
from connectors.spark_eventlog.errors import EventLogError
from connectors.spark_eventlog.redaction import REDACTED, redact
from connectors.spark_history.errors import HistoryServerError, Secrets
from connectors.spark_history.errors import redact_url as history_redact_url
from connectors.warehouse_files import PartialHistoryError, WarehouseInputError, one_line, scrub_secrets

# Under mutation testing (tests/mutation/run.py) each mutant reruns these tests: fewer examples
# keep one mutant to seconds; the full count runs in the suite.
FEWER = 4 if os.environ.get("DEANALYZE_MUTATION") else 1
if FEWER > 1:  # a failing example is enough to kill a mutant: no time spent shrinking it
    settings.register_profile("deanalyze-mutation", phases=(Phase.explicit, Phase.reuse, Phase.generate))
    settings.load_profile("deanalyze-mutation")

# --- warehouse drivers: scrub_secrets -----------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secret-looking variables of the machine running the tests must not change the expected text."""
    import os
    import re

    for key in list(os.environ):
        if re.search(r"(?i)PASSWORD|PASSCODE|TOKEN|SECRET|PRIVATE_KEY", key):
            monkeypatch.delenv(key)


@pytest.mark.parametrize(("text", "expected"), [
    ("login failed: password=hunter2 for bob", "login failed: password=*** for bob"),
    ("PWD = 'two words' rest", "PWD = *** rest"),
    ('{"token": "a b c", "user": "bob"}', '{"token": ***, "user": "bob"}'),
    ("api_key=abc&region=eu", "api_key=***&region=eu"),
    ("private_key_passphrase:xyz;next", "private_key_passphrase:***;next"),
    ("[client_secret=s3cr3t]", "[client_secret=***]"),
    ("monkey=banana turkey: yes", "monkey=banana turkey: yes"),  # 'key' only as a whole word
    ("key = v", "key = ***"),
    ("Authorization: Bearer abcd.efgh-ijk", "Authorization: *** ***"),  # header, then key=value
    ("header Bearer abcd.efgh-ijk", "header Bearer ***"),
    ("basic dXNlcjpwYXNz", "basic ***"),
    ("basic abc", "basic abc"),  # too short to be a credential
    ("snowflake://bob:pa55@acct/db?x=1", "snowflake://***@acct/db?x=1"),
    ("https://bob@host/x", "https://bob@host/x"),  # no password in the user-info
    ("nothing to hide here", "nothing to hide here"),
])
def test_scrub_secrets_patterns(text: str, expected: str) -> None:
    assert scrub_secrets(text) == expected


def test_known_secrets_are_replaced_longest_first_and_short_ones_ignored() -> None:
    assert scrub_secrets("pw abcdef and abc and ab", ["abc", "abcdef", "ab", None, ""]) == \
        "pw *** and *** and ab"


def test_secret_environment_variables_are_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "Tr0ub4dor")
    monkeypatch.setenv("MY_TOKEN", "tok")  # shorter than 4: kept (would mask common words)
    monkeypatch.setenv("HOME_DIR", "/home/bob")  # not a secret name
    assert scrub_secrets("got Tr0ub4dor, tok, /home/bob") == "got ***, tok, /home/bob"


def test_one_line_squeezes_scrubs_and_caps_at_300_characters() -> None:
    assert one_line("a\n  b\tpassword=x\r\n") == "a b password=***"
    assert one_line("x" * 300) == "x" * 300
    assert one_line("x" * 301) == "x" * 299 + "…"


def test_warehouse_errors_are_one_scrubbed_line() -> None:
    err = WarehouseInputError("bad\nrow: token=abc", "qh.csv")
    assert str(err) == "qh.csv: bad row: token=***"
    assert (err.source, err.message) == ("qh.csv", "bad row: token=***")
    partial = PartialHistoryError("history", [("m.csv", "no\ncolumn"), ("t.csv", "pwd=x")])
    assert str(partial) == "m.csv: no column; pwd=***"
    assert partial.problems == [("m.csv", "no column"), ("t.csv", "pwd=***")]
    assert partial.history == "history"


# --- event-log paths: redact_url and EventLogError --------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("s3://AKIA:key@bucket/p?X-Amz-Signature=abc", "s3://***@bucket/p?***"),
    ("abfs://c@acct.dfs.core.windows.net/x?sig=zz&se=1 next",
     "abfs://***@acct.dfs.core.windows.net/x?*** next"),
    ("cannot read HDFS://user@nn:8020/logs!", "cannot read HDFS://***@nn:8020/logs!"),
    ("/local/path?with=query", "/local/path?with=query"),  # not a URL: left alone
    ("gs://bucket/a/b", "gs://bucket/a/b"),
])
def test_event_log_redact_url(text: str, expected: str) -> None:
    assert eventlog_errors.redact_url(text) == expected


def test_event_log_error_is_one_redacted_line() -> None:
    err = EventLogError("denied for\ns3://k:s@b/x?t=1", "s3://k:s@b/app-1?sig=2")
    assert str(err) == "s3://***@b/app-1?***: denied for s3://***@b/x?***"
    assert str(EventLogError("only a message")) == "only a message"
    assert repr(EventLogError("bad\nthing", "x")) == "EventLogError('bad thing')"  # debug logs show it
    assert EventLogError("m", "").source == ""
    assert eventlog_errors.one_line("y" * 301) == "y" * 299 + "…"
    assert eventlog_errors.one_line("y" * 300) == "y" * 300


# --- History Server: redact_url, Secrets -------------------------------------------------------


@pytest.mark.parametrize(("url", "expected"), [
    ("https://bob:pw@SHS.example.com:18080/api/v1?token=abc&x=1#frag",
     "https://***@shs.example.com:18080/api/v1?token=***&x=***"),
    ("http://bob@h/api", "http://***@h/api"),
    ("http://[::1]:18080/api", "http://[::1]:18080/api"),
    ("http://h/api?a=", "http://h/api?a=***"),
    ("http://h/api", "http://h/api"),
    ("http://h:port/api", "<unparsable URL>"),
])
def test_history_server_redact_url(url: str, expected: str) -> None:
    assert history_redact_url(url) == expected


def test_history_secrets_mask_headers_bare_tokens_and_longest_first() -> None:
    secrets = Secrets(["Bearer tok123", " pw ", "", "token tok123456"])
    text = "sent Bearer tok123 and token tok123456, bare tok123, pw"
    assert secrets.scrub(text) == "sent *** and ***, bare ***, ***"
    assert Secrets().scrub("nothing") == "nothing"


def test_history_errors_scrub_message_and_url() -> None:
    secrets = Secrets(["s3cr3t"])
    err = secrets.error("server said s3cr3t", "https://u:s3cr3t@h:1/api?k=s3cr3t", "app-7")
    assert isinstance(err, HistoryServerError) and err.app_id == "app-7"
    assert err.message == "server said ***"
    assert "s3cr3t" not in str(err) and err.source is not None and err.source.startswith("https://***@h:1/api")


# --- Spark properties -----------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "hidden"), [
    ("spark.hadoop.fs.s3a.secret.key", True), ("spark.hadoop.fs.s3a.access.key", True),
    ("spark.ssl.keyStorePassword", True), ("spark.authenticate.secret", True),
    ("SPARK_TOKEN", True), ("spark.kerberos.keytab.credentials", True), ("x.private-key", True),
    ("spark.hadoop.fs.s3a.accesskey", True), ("spark.executor.memory", False), ("spark.app.name", False),
])
def test_spark_property_redaction(key: str, hidden: bool) -> None:
    assert redact(key, "value") == (REDACTED if hidden else "value")


# --- no generated secret survives ----------------------------------------------------------------

_SECRET = st.from_regex(r"[A-Za-z0-9]{6,16}", fullmatch=True).map(lambda s: "Zq" + s)


@settings(max_examples=200 // FEWER, deadline=None, derandomize=True, database=None)
@given(_SECRET, st.sampled_from(["password", "token", "secret", "api_key", "pwd"]),
       st.sampled_from(["=", ": ", " = "]))
def test_no_generated_secret_survives_a_warehouse_error(secret: str, key: str, sep: str) -> None:
    text = f"failed {key}{sep}{secret} at snowflake://bob:{secret}@acct/db"
    assert secret not in str(WarehouseInputError(text, "acct"))


@settings(max_examples=200 // FEWER, deadline=None, derandomize=True, database=None)
@given(_SECRET, st.sampled_from(["s3", "gs", "abfs", "hdfs", "https"]))
def test_no_generated_secret_survives_an_event_log_error(secret: str, scheme: str) -> None:
    url = f"{scheme}://AKIA:{secret}@bucket/app-1?sig={secret}"
    assert secret not in str(EventLogError(f"cannot open {url}", url))
    assert secret not in history_redact_url(f"https://u:{secret}@h/api?k={secret}")


def test_secrets_inside_other_secrets_are_masked_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # Longest first, not alphabetical: "zz1" sorts after "abzz1x" but is part of it.
    assert scrub_secrets("got abzz1x and zz1", ["zz1", "abzz1x"]) == "got *** and ***"
    monkeypatch.setenv("APP_TOKEN", "k3y9")  # four characters: long enough to be scrubbed
    assert scrub_secrets("sent k3y9") == "sent ***"


def test_history_server_urls_without_a_host_keep_an_empty_host() -> None:
    assert history_redact_url("file:///tmp/app?k=v") == "file:///tmp/app?k=***"
