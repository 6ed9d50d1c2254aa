"""Lead CSV files: good rows in, bad rows reported by line, wrong files refused by name."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.core.outbound.leads_csv import (
    BadRow,
    CsvFileError,
    LeadIn,
    LeadReader,
    detect_encoding,
)


def read(data: bytes | str, **kwargs: object) -> tuple[LeadReader, list[LeadIn], list[BadRow]]:
    raw = data.encode() if isinstance(data, str) else data
    reader = LeadReader(io.BytesIO(raw), **kwargs)  # type: ignore[arg-type]
    rows = list(reader.rows())
    return (
        reader,
        [r for r in rows if isinstance(r, LeadIn)],
        [r for r in rows if isinstance(r, BadRow)],
    )


GOOD = (
    "phone,first_name,last_name,account,timezone,data_plan\n"
    "+1 212 555 0100,Ann,Lee,A-1,,gold\n"
    "(310) 555-0101,Bob,Ray,A-2,America/Los_Angeles,\n"
)


def test_good_file() -> None:
    reader, good, bad = read(GOOD)
    assert bad == [] and reader.encoding.name == "utf-8" and reader.encoding.warning == ""
    assert good[0] == LeadIn(2, "+12125550100", "Ann", "Lee", "A-1", "", {"plan": "gold"})
    assert good[1].phone == "+13105550101" and good[1].timezone == "America/Los_Angeles"
    assert good[1].data == {}


def test_header_names_are_forgiving_and_aliases_work() -> None:
    _, good, bad = read("Phone Number;First-Name;TZ\n212 555 0100;Åsa;Europe/Stockholm\n")
    assert bad == [] and good[0].first_name == "Åsa" and good[0].timezone == "Europe/Stockholm"


def test_name_column_is_split() -> None:
    _, good, _ = read("number,name\n2125550100,Mary Ann Smith\n")
    assert (good[0].first_name, good[0].last_name) == ("Mary", "Ann Smith")


# -- wrong columns ---------------------------------------------
@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("phone,email,fax\n", ["'email'", "'fax'"]),
        ("first_name,last_name\n", ["no phone column"]),
        ("phone,number\n", ["columns given twice: phone"]),
        ("phone,,name\n", ["unknown columns ''"]),
        ("\n", ["no header"]),
        ("", ["the first line looks like a lead"]),
    ],
)
def test_wrong_columns_refuse_the_file_naming_them(header: str, named: list[str]) -> None:
    with pytest.raises(CsvFileError) as caught:
        read(header + "2125550100,x\n")
    message = str(caught.value)
    assert message.startswith("line 1:")
    for text in named:
        assert text in message
    if "unknown" in named[0] or "'" in named[0]:
        assert "data_<key>" in message  # says what would have been accepted


def test_empty_file_is_refused() -> None:
    with pytest.raises(CsvFileError, match="no header"):
        read(b"")


# -- bad rows ---------------------------------------------
def test_bad_rows_are_reported_with_their_lines_and_good_ones_kept() -> None:
    text = (
        "phone,name,timezone\n"
        "2125550100,Ann,\n"  # 2 good
        "not a number,Bob,\n"  # 3 bad
        "555,Cy,\n"  # 4 bad: too short
        "2125550102,Di,Mars/Base\n"  # 5 bad zone
        "2125550103,Ed\n"  # 6 too few fields
        "2125550104,Flo,,extra\n"  # 7 too many
        "\n"  # 8 blank: skipped
        "2125550105,Gus,America/New_York\n"  # 9 good
    )
    reader, good, bad = read(text)
    assert [g.line for g in good] == [2, 9]
    assert [(b.line, b.reason.split(":")[0].split(" ")[0]) for b in bad] == [
        (3, "bad"),
        (4, "bad"),
        (5, "unknown"),
        (6, "2"),
        (7, "4"),
    ]
    assert bad[0].text == "not a number,Bob,"
    assert reader.blank_lines == 1


def test_duplicates_within_the_file_and_against_the_campaign() -> None:
    text = "phone\n2125550100\n+1 (212) 555-0100\n2125550101\n2125550102\n"
    _, good, bad = read(text, existing={"+12125550102"})
    assert [g.line for g in good] == [2, 4]
    assert bad[0].line == 3 and "on line 2" in bad[0].reason
    assert bad[1].line == 5 and "already a lead" in bad[1].reason


def test_quoted_field_over_two_lines_reports_its_first_line() -> None:
    text = 'phone,name\n2125550100,"Ann\nLee"\nbad,Bob\n'
    _, good, bad = read(text)
    assert good[0].line == 2 and bad[0].line == 4


def test_long_and_control_fields_are_bad() -> None:
    _, _, bad = read("phone,account\n2125550100," + "x" * 33 + "\n2125550101,a\x07b\n")
    assert "longer than 32" in bad[0].reason and "control" in bad[1].reason


def test_national_numbers_follow_the_campaign_region() -> None:
    _, good, _ = read("phone\n020 7946 0000\n", default_region="GB")
    assert good[0].phone == "+442079460000"


# -- encodings ---------------------------------------------
def test_utf8_with_bom() -> None:
    reader, good, _ = read("\ufeffphone,name\n2125550100,José\n".encode())
    assert reader.encoding.name == "utf-8-sig" and good[0].first_name == "José"


def test_utf16_with_bom() -> None:
    reader, good, _ = read("phone,name\r\n2125550100,Zoë\r\n".encode("utf-16"))
    assert reader.encoding.name == "utf-16" and good[0].first_name == "Zoë"


def test_windows_1252_is_read_with_a_warning_naming_the_line() -> None:
    data = "phone,name\n2125550100,Ann\n2125550101,José Müller\n".encode("cp1252")
    reader, good, bad = read(data)
    assert reader.encoding.name == "cp1252" and "line 3" in reader.encoding.warning
    assert bad == [] and good[1].first_name == "José" and good[1].last_name == "Müller"


def test_bytes_that_are_no_text_refuse_the_file_naming_the_line() -> None:
    with pytest.raises(CsvFileError, match="line 3: the file is neither UTF-8 nor Windows-1252"):
        read(b"phone,name\n2125550100,Ann\n2125550101,\x81\x8d\n")


def test_nul_bytes_refuse_the_file() -> None:
    with pytest.raises(CsvFileError, match="line 1: NUL bytes"):
        read("phone\n".encode("utf-16-le"))


def test_encoding_detection_leaves_the_stream_at_the_start() -> None:
    stream = io.BytesIO(b"phone\n2125550100\n")
    assert detect_encoding(stream).name == "utf-8" and stream.tell() == 0


def test_progress_position_grows_to_the_file_size() -> None:
    data = ("phone\n" + "".join(f"212555{i:04d}\n" for i in range(3000))).encode()
    reader = LeadReader(io.BytesIO(data))
    seen = [reader.position() for _ in reader.rows()]
    assert seen[0] < seen[-1] == len(data)


# -- nothing lost ---------------------------------------------
ROW = st.one_of(
    st.integers(0, 9999).map(lambda i: f"212555{i:04d}"),
    st.text(alphabet="0123456789+-() abc", max_size=14),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(ROW, max_size=40), st.sampled_from(["utf-8", "cp1252"]))
def test_every_row_is_either_imported_or_reported(phones: list[str], encoding: str) -> None:
    text = "phone,name\n" + "".join(f'"{p}",Zoë\n' for p in phones)
    reader, good, bad = read(text.encode(encoding))
    assert len(good) + len(bad) + reader.blank_lines == len(phones)
    assert sorted([g.line for g in good] + [b.line for b in bad]) == list(range(2, 2 + len(phones)))
    assert len({g.phone for g in good}) == len(good)
