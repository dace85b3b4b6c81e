"""Server-sent events decoded as the WHATWG HTML standard says, with its own examples."""

from __future__ import annotations

from tui.event_stream import EventStreamDecoder, ServerEvent


def decode(*reads: bytes) -> list[ServerEvent]:
    decoder = EventStreamDecoder()
    events = [event for read in reads for event in decoder.feed(read)]
    return events + decoder.end()


def datas(*reads: bytes) -> list[str]:
    return [event.data for event in decode(*reads)]


def test_the_specs_stock_example_joins_data_lines_with_newlines() -> None:
    assert decode(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [ServerEvent("message", "YHOO\n+2\n10")]


def test_the_specs_example_of_ids_comments_and_one_space_removed() -> None:
    body = (
        b": test stream\n\n"
        b"data: first event\nid: 1\n\n"
        b"data:second event\nid\n\n"
        b"data:  third event\n\n"
    )
    decoder = EventStreamDecoder()
    first, second, third = decoder.feed(body)
    assert (first.data, second.data, third.data) == ("first event", "second event", " third event")
    assert decoder.comments == 1 and decoder.last_event_id == ""


def test_the_specs_example_of_empty_data_and_an_unterminated_last_event() -> None:
    assert datas(b"data\n\ndata\ndata\n\ndata:") == ["", "\n"]


def test_the_specs_example_that_one_space_after_the_colon_is_optional() -> None:
    assert datas(b"data:test\n\ndata: test\n\n") == ["test", "test"]


def test_event_types_default_to_message_and_reset_after_each_event() -> None:
    body = b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\ndata: 1\n\n"
    assert [(e.type, e.data) for e in decode(body)] == [
        ("add", "73857293"),
        ("remove", "2153"),
        ("message", "1"),
    ]


def test_a_block_without_data_dispatches_nothing() -> None:
    assert decode(b"event: ping\n\nid: 7\n\n: comment\n\n") == []


def test_cr_lf_and_crlf_all_end_lines_also_split_across_reads() -> None:
    body = b"data: a\r\rdata: b\n\ndata: c\r\n\r\ndata: d\r\n\r\n"
    assert datas(body) == ["a", "b", "c", "d"]
    one_byte_at_a_time = [body[i : i + 1] for i in range(len(body))]
    assert datas(*one_byte_at_a_time) == ["a", "b", "c", "d"]
    # A CR ending one read and an LF starting the next are one line break, not two.
    assert datas(b"data: x\r", b"\ndata: y\r\n\r\n") == ["x\ny"]


def test_a_byte_order_mark_at_the_start_is_dropped_once() -> None:
    assert decode(b"\xef\xbb\xbfdata: a\n\n") == [ServerEvent("message", "a")]
    bom_split = decode(b"\xef", b"\xbb", b"\xbfdata: a\n\n")
    assert bom_split == [ServerEvent("message", "a")]
    later_bom = datas(b"data: a\n\n\xef\xbb\xbfdata: b\n\n")
    assert later_bom == ["a"], "a later BOM is part of a field name"


def test_id_retry_and_unknown_fields_as_the_spec_reads_them() -> None:
    decoder = EventStreamDecoder()
    decoder.feed(b"id: 5\nretry: 1500\nfoo: bar\ndata: x\n\n")
    assert (decoder.last_event_id, decoder.retry) == ("5", 1500)
    decoder.feed(b"id: a\x00b\nretry: 15s\ndata: y\n\n")
    assert (decoder.last_event_id, decoder.retry) == ("5", 1500), "NUL in id, non-digit retry"


def test_utf8_split_across_reads_and_invalid_bytes_are_replaced() -> None:
    body = "data: é→😀\n\n".encode()
    assert datas(*[body[i : i + 1] for i in range(len(body))]) == ["é→😀"]
    assert datas(b"data: \xff\n\n") == ["\ufffd"]


def test_an_error_field_is_read_as_an_error_event() -> None:
    """Older llama.cpp builds send `error: {...}` instead of `data:`; a spec reader drops it."""
    assert decode(b'error: {"message": "slot unavailable"}\n\n') == [
        ServerEvent("error", '{"message": "slot unavailable"}')
    ]


def test_an_oversized_event_is_dropped_and_counted_and_the_next_one_read() -> None:
    decoder = EventStreamDecoder(largest_event=100)
    events = decoder.feed(b"data: " + b"x" * 150 + b"\n\ndata: fine\n\n")
    assert events == [ServerEvent("message", "fine")] and decoder.oversized == 1
    decoder = EventStreamDecoder(largest_event=100)
    events = decoder.feed(b"data: " + b"y" * 500)  # a line with no end in sight
    events += decoder.feed(b"y" * 500 + b"\n\ndata: next\n\n")
    assert events == [ServerEvent("message", "next")] and decoder.oversized == 1


def test_a_long_line_split_over_many_reads_is_read_whole() -> None:
    body = b"data: " + b"x" * 1_000_000 + b"\n\n"
    reads = [body[i : i + 1024] for i in range(0, len(body), 1024)]
    assert datas(*reads) == ["x" * 1_000_000]


def test_the_rest_of_an_oversized_line_never_ends_its_event_early() -> None:
    """Found in review: after a too-long line was dropped, its end read as a blank line."""
    pieces = [b"data: " + b"x" * 40, b"\ndata: second\n\n"]
    for reads in (pieces, [b"".join(pieces)]):
        decoder = EventStreamDecoder(largest_event=10)
        events = [event for read in reads for event in decoder.feed(read)]
        assert events == [] and decoder.oversized == 1
