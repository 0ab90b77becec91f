from __future__ import annotations

import dataclasses
import sys
import zoneinfo
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import event, given, settings
from hypothesis import strategies as st

from ringwatch.flows.cli import cli
from ringwatch.flows.core.settings import ScheduleSettings, Settings, check_schedule, load_settings
from ringwatch.scrapers.errors import SettingsError
from ringwatch.scrapers.http import HttpSettings
from ringwatch.warehouse.quality import GatePolicy
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = ROOT / "config" / "settings.toml"
KNOWN_SECTIONS = ("[warehouse], [http], [flow], [gates], [wayback], [staleness], [schedule], [identity], [publish], "
                  "[sources.agency_map], [sources.transparency]")


def run(*args: str) -> tuple[int, str]:
    """A command in-process: its exit code and its stderr."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stderr


def test_built_in_defaults_are_polite() -> None:
    settings = load_settings()
    assert settings.http.delay_seconds >= 1.0
    assert settings.http.user_agent.startswith("ringwatch/0.1.0 (+")
    assert settings.map_url().startswith("https://www.google.com/maps/d/kml?")
    assert "mid=1eYVDPh5itXq5acDT9b0BVeQwmESBa4cB" in settings.map_url()
    assert str(settings.db_path) == "ringwatch.duckdb"
    assert settings.aliases_file == "config/agency_aliases.csv (built-in)"


def test_environment_overrides_the_file_and_arguments_override_both(
        monkeypatch: pytest.MonkeyPatch, fast_config: Path) -> None:
    monkeypatch.setenv("RINGWATCH_CONFIG", str(fast_config))
    monkeypatch.setenv("RINGWATCH_DB", "/tmp/from-env.duckdb")
    monkeypatch.setenv("RINGWATCH_AGENCY_MAP_URL", "http://127.0.0.1:9/map.kml")
    settings = load_settings()
    assert settings.http.delay_seconds == 0.0  # from the file
    assert str(settings.db_path) == "/tmp/from-env.duckdb"
    assert settings.map_url() == "http://127.0.0.1:9/map.kml"
    assert str(load_settings(db_path="x.duckdb").db_path) == "x.duckdb"


def test_invalid_toml_and_missing_files_are_settings_errors_naming_the_absolute_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.toml").write_text("[http\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=f"config file {tmp_path / 'bad.toml'} is not valid TOML"):
        load_settings("bad.toml")
    with pytest.raises(SettingsError, match=f"config file {tmp_path / 'missing.toml'} not found"):
        load_settings("missing.toml")
    Path("latin1.toml").write_bytes(b'[http]\ncontact = "caf\xe9"\n')
    with pytest.raises(SettingsError, match="latin1.toml is not UTF-8 text"):
        load_settings("latin1.toml")
    with pytest.raises(SettingsError, match=f"config file {tmp_path} cannot be read"):
        load_settings(".")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/map.kml"])
def test_non_http_source_urls_are_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("RINGWATCH_AGENCY_MAP_URL", url)
    with pytest.raises(SettingsError, match="only http and https"):
        load_settings()


def test_wayback_base_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().wayback.base_url == "https://web.archive.org"
    monkeypatch.setenv("RINGWATCH_WAYBACK_URL", "http://127.0.0.1:8080")
    settings = load_settings()
    assert settings.wayback.base_url == "http://127.0.0.1:8080" and settings.wayback.window_days == 45


# -- a copy of the defaults ----------------------------------------------------------------------


def test_an_unedited_copy_of_the_defaults_works_from_another_folder(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    copy = elsewhere / "copy.toml"
    copy.write_bytes(DEFAULTS.read_bytes())
    monkeypatch.chdir(tmp_path)  # neither the repository nor the copy's folder
    assert load_settings(copy) == dataclasses.replace(load_settings(), config_file=str(copy))  # as built in
    db = str(tmp_path / "x.duckdb")
    kml = str(FIXTURES / "agency_map/direct_layer_2020-07-01.kml")
    assert run("sync", "--from-file", kml, "--observed-at", "2020-07-01", "--config", "elsewhere/copy.toml",
               "--db", db) == (0, "")
    assert run("status", "--config", "elsewhere/copy.toml", "--db", db) == (0, "")


def test_an_aliases_file_beside_the_copy_is_read_and_any_other_name_must_exist(tmp_path: Path) -> None:
    copy = tmp_path / "copy.toml"
    copy.write_bytes(DEFAULTS.read_bytes())
    mine = tmp_path / "agency_aliases.csv"
    mine.write_text("decision,key_a,key_b,note\nsame,aos:1,aos:2,x\n", encoding="utf-8")
    settings = load_settings(copy)
    assert settings.aliases_file == str(mine) and [a.line for a in settings.aliases] == [2]

    copy.write_text('[identity]\naliases_file = "reviewed/mine.csv"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(copy)
    assert str(caught.value).startswith(f"{copy}: [identity] aliases_file {tmp_path / 'reviewed/mine.csv'} "
                                        "does not exist; create it with the header decision,key_a,key_b,note")
    copy.write_text('[identity]\naliases_file = ""\n', encoding="utf-8")
    assert (load_settings(copy).aliases_file, load_settings(copy).aliases) == ("(none)", ())
    copy.write_text("[http]\ndelay_seconds = 0\n", encoding="utf-8")  # no [identity]: as in the defaults
    assert load_settings(copy).aliases_file == str(mine)


def test_a_missing_aliases_file_given_through_a_relative_config_names_its_absolute_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf/c.toml").write_text('[identity]\naliases_file = "mine.csv"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, stderr = run("status", "--config", "conf/c.toml", "--db", "x.duckdb")
    assert code == 2
    assert stderr == (f"Error: {tmp_path / 'conf/c.toml'}: [identity] aliases_file {tmp_path / 'conf/mine.csv'} "
                      "does not exist; create it with the header decision,key_a,key_b,note, or fix the path (a "
                      "relative one is relative to the settings file's folder; \"\" reads none).\n")


def test_a_mistake_inside_the_aliases_file_exits_2_too(tmp_path: Path) -> None:
    (tmp_path / "mine.csv").write_text("decision,key_a,key_b,note\nmaybe,aos:1,aos:2,x\n", encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text('[identity]\naliases_file = "mine.csv"\n', encoding="utf-8")
    code, stderr = run("status", "--config", str(config), "--db", str(tmp_path / "x.duckdb"))
    assert code == 2 and "the decision must be 'same' or 'different'" in stderr and stderr.count("\n") == 1


# -- unknown sections and keys ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ('[warehous]\npath = "mine.duckdb"\n', f"unknown section [warehous] (did you mean [warehouse]?); the known "
                                           f"sections are {KNOWN_SECTIONS}."),
    ("[telemetry]\nenabled = true\n", f"unknown section [telemetry]; the known sections are {KNOWN_SECTIONS}."),
    ('[source.agency_map]\nurl = "https://example.org/map.kml"\n',
     "unknown section [source.agency_map] (did you mean [sources.agency_map]?)"),
    ('[sources.agencymap]\nurl = "https://example.org/map.kml"\n',
     "unknown section [sources.agencymap] (did you mean [sources.agency_map]?)"),
    ("[http]\ndelay_secs = 1\n", "unknown key(s) delay_secs in [http] (did you mean delay_seconds?); known keys: "
                                 "backoff_base_seconds, backoff_max_seconds, connect_timeout_seconds, contact, "),
    ("[http]\nlock_timeout_seconds = 5\n", "unknown key(s) lock_timeout_seconds in [http] (lock_timeout_seconds "
                                           "belongs in [warehouse]); known keys: "),
    ('[sources.agency_map]\nurls = ["https://example.org"]\n',
     "unknown key(s) urls in [sources.agency_map] (did you mean url?); known keys: url."),
    ("[schedule]\ninterval = 3600\n", "unknown key(s) interval in [schedule]; known keys: cron, timezone."),
    ('path = "mine.duckdb"\n', "path is outside any section (path is a key of [warehouse]); keys go in a section"),
    ('[sources]\nurl = "https://example.org"\n', "url is in [sources] (url is a key of [sources.agency_map])"),
    ("http = 2\n", "http = 2 must be a section: write [http] and its keys on the lines below."),
])
def test_unknown_sections_and_keys_exit_2_naming_the_file_the_section_and_the_known_names(
        tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: {message}")
    code, stderr = run("status", "--config", str(path), "--db", str(tmp_path / "x.duckdb"))
    assert (code, stderr) == (2, f"Error: {caught.value}\n")


def test_every_known_section_and_key_of_the_defaults_is_accepted_and_nothing_else_is_known() -> None:
    import tomllib

    from ringwatch.flows.core.settings import _TABLES

    raw = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))
    written = {f"{k}.{s}" if k == "sources" else k for k, v in raw.items() for s in (v if k == "sources" else [k])}
    assert written == set(_TABLES)  # the defaults show every section, and only known ones


# -- [schedule] -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ('timezone = "America/New_Yrok"', "[schedule] timezone = 'America/New_Yrok' is not a timezone (did you mean "
                                      "America/New_York?)"),
    ('timezone = "utc"', "[schedule] timezone = 'utc' is not a timezone (did you mean UTC?)"),
    ('timezone = ""', "[schedule] timezone = '' is not a timezone"),
    ('timezone = "../../etc/passwd"', "[schedule] timezone = '../../etc/passwd' is not a timezone"),
    ('timezone = "right/UTC"', "[schedule] timezone = 'right/UTC' is not an IANA timezone name"),
    ('cron = "0 6 1 1,4,7,10"', "[schedule] cron = '0 6 1 1,4,7,10': it has 4 field(s), not 5; write five fields"),
    ('cron = "0 0 6 1 1,4,7,10 *"', "[schedule] cron = '0 0 6 1 1,4,7,10 *': it has 6 field(s), not 5"),
    ('cron = "0 24 1 * *"', "[schedule] cron = '0 24 1 * *': the hour field has 24, outside 0 to 23"),
    ('cron = "0 6 1 1,4,,10 *"', "the month field '1,4,,10' has '', which is not a value, range or step"),
    ('cron = "0 6 1 jan-dex *"', "the month field has 'dex', which is not a number or a name (jan, feb, "),
    ('cron = "0 6 L * *"', "the day-of-month field has 'L', which is not a number;"),
    ('cron = "*/0 * * * *"', "the minute field '*/0' has the step 0, outside 1 to 60"),
    ('cron = "0 6 10-1 * *"', "the day-of-month field '10-1' has the range '10-1', which runs backwards"),
    ('cron = "0 6 31 2,4 *"', "[schedule] cron = '0 6 31 2,4 *': it never fires"),
    ('cron = "@daily"', "[schedule] cron = '@daily': it has 1 field(s), not 5"),
    ("cron = 5", "[schedule] cron must be a string in quotes, not 5"),
])
def test_a_bad_timezone_or_cron_exits_2_naming_the_key_and_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(f"[schedule]\n{text}\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)
    for command in ("status", "serve"):
        code, stderr = run(command, "--config", str(path), "--db", str(tmp_path / "x.duckdb"))
        assert (code, stderr) == (2, f"Error: {caught.value}\n")


def test_serve_stops_on_a_bad_schedule_before_it_loads_prefect(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[schedule]\ntimezone = "Europe/Londn"\n', encoding="utf-8")
    monkeypatch.setitem(sys.modules, "ringwatch.flows.orchestration.serve", None)  # any import of it now fails
    code, stderr = run("serve", "--config", str(path), "--db", str(tmp_path / "x.duckdb"))
    assert code == 2
    assert stderr.startswith(f"Error: {path}: [schedule] timezone = 'Europe/Londn' is not a timezone (did you "
                             "mean Europe/London?)")


def test_settings_built_in_code_are_checked_before_prefect_sees_the_schedule() -> None:
    from ringwatch.flows.orchestration.serve import build_deployments

    bad = Settings(db_path=Path("x.duckdb"), http=HttpSettings(), flow=load_settings().flow, gates=GatePolicy(),
                   schedule=ScheduleSettings(cron="0 6 1 1,4,7,10 *", timezone="Mars/Olympus"))
    with pytest.raises(SettingsError, match=r"\(built-in\): \[schedule\] timezone = 'Mars/Olympus' is not"):
        build_deployments(bad)


@pytest.mark.parametrize("cron", ["0 6 1 1,4,7,10 *", "*/15 * * * *", "0 0 * * mon-fri", "30 2 1-7 * SUN",
                                  "0 12 * JAN-Mar/2 *", "0 0 29 2 *", "59 23 31 12 7", "0-59/60 0 * * 0-7"])
def test_ordinary_schedules_pass_and_prefect_agrees(cron: str) -> None:
    from prefect.client.schemas.schedules import CronSchedule

    check_schedule(ScheduleSettings(cron=cron, timezone="America/New_York"), file="f")
    CronSchedule(cron=cron, timezone="America/New_York")


_ODD = ["L", "W", "5#2", "?", "H", "R", "00", "-1", "", "x", "\u00b2", "\u0663", "*", "jan", "sun", "\u212a"]


def _field(least: int, most: int, names: list[str]) -> st.SearchStrategy[str]:
    """Mostly fields cron allows; now and then a value just outside the range, backwards or odd."""
    value = st.one_of(st.integers(least, most).map(str), st.sampled_from(names or [str(least)]))
    pair = st.tuples(st.integers(least, most), st.integers(least, most)).map(sorted)
    step = st.integers(1, most - least + 1)
    good = st.one_of(st.just("*"), value, st.builds("*/{}".format, step),
                     pair.map("{0[0]}-{0[1]}".format), st.builds("{0[0]}-{0[1]}/{1}".format, pair, step))
    atom = st.one_of(value, st.sampled_from([str(least - 1), str(most + 1), "99"]), st.sampled_from(_ODD))
    odd = st.one_of(atom, st.builds("*/{}".format, atom), st.builds("{}-{}".format, atom, atom),
                    st.builds("{}-{}/{}".format, atom, atom, atom), st.builds("{}/{}".format, atom, atom))
    item = st.sampled_from(range(12)).flatmap(lambda n: odd if n == 0 else good)  # one in twelve is odd
    return st.lists(item, min_size=1, max_size=3).map(",".join)


_five = st.tuples(_field(0, 59, []), _field(0, 23, []), _field(1, 31, []),
                  _field(1, 12, ["JAN", "mar", "Dec"]), _field(0, 7, ["sun", "MON", "sat"])).map(" ".join)
_crons = st.one_of(_five, _five.map(lambda cron: cron.replace(" ", "  ", 1)), _five.map(lambda cron: f"{cron} *"))


@given(cron=_crons, timezone=st.sampled_from(
    sorted(zoneinfo.available_timezones())[::25] + ["posixrules", "right/UTC", "posix/UTC", "localtime", "Factory"]))
@settings(max_examples=200, deadline=None)
def test_whatever_the_settings_accept_prefect_accepts(cron: str, timezone: str) -> None:
    """The cron grammar here is written by hand; Prefect's validators are the truth serve meets."""
    from prefect.client.schemas.schedules import CronSchedule

    try:
        check_schedule(ScheduleSettings(cron=cron, timezone=timezone), file="f")
    except SettingsError:
        event("refused")
        return
    event("accepted")
    CronSchedule(cron=cron, timezone=timezone)  # a pydantic ValidationError fails the test


# -- every settings error exits 2 ------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "[http\n", '[http]\ndelay_seconds = "2"\n', "[warehous]\n", '[warehouse]\npath = ""\n',
    '[sources.agency_map]\nurl = "file:///etc/passwd"\n', '[identity]\naliases_file = "."\n',
    "[identity]\naliases_file = 3\n", '[schedule]\ntimezone = "Nowhere/Town"\n', "[gates]\nrequired_fields = 1\n",
])
def test_every_settings_error_exits_2_with_one_error_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    code, stderr = run("status", "--config", str(path), "--db", str(tmp_path / "x.duckdb"))
    assert code == 2
    assert stderr.startswith("Error: ") and stderr.count("\n") == 1 and "unexpected" not in stderr
