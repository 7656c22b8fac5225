<?php
/**
 * Counts the records of a CSV stream fed in pieces of any size, without
 * holding more than one piece.
 *
 * Rules (RFC 4180 plus what spreadsheet tools accept):
 *  - a record ends at LF, CRLF or a lone CR outside double quotes;
 *  - inside double quotes everything is data, newlines included; a doubled
 *    quote ("") is an escaped quote;
 *  - a UTF-8 byte order mark at the very start is not data;
 *  - empty lines are not records;
 *  - a last record without a line ending counts (also one cut off inside
 *    an open quote).
 *
 * Speed: a piece is never walked byte by byte. Quote parity decides what is
 * inside a field: with quotes paired left to right, "" escapes pair up too,
 * so removing every "..." pair (C-speed regex) leaves exactly the text
 * outside fields, in which line endings are counted with C-speed calls.
 */
final class Dxt_CsvCounter
{
    const BOM = "\xEF\xBB\xBF";

    /** @var int records ended so far */
    private $records = 0;
    /** @var bool inside a quoted field at the end of the last piece */
    private $inQuote = false;
    /** @var bool at the start of a record (nothing of it seen yet) */
    private $atRecordStart = true;
    /** @var string bytes held back: a BOM prefix at the start, or a trailing CR */
    private $pending = '';
    /** @var bool whether the start of the stream was checked for a BOM */
    private $bomChecked = false;
    /** @var bool */
    private $finished = false;

    public function feed(string $data): void
    {
        if ($this->finished) {
            return;
        }
        if ($this->pending !== '') {
            $data = $this->pending . $data;
            $this->pending = '';
        }
        if (!$this->bomChecked) {
            if (strlen($data) < 3 && strncmp(self::BOM, $data, strlen($data)) === 0) {
                $this->pending = $data; // maybe the start of a BOM: wait for more
                return;
            }
            if (strncmp($data, self::BOM, 3) === 0) {
                $data = (string) substr($data, 3);
            }
            $this->bomChecked = true;
        }
        if ($data === '') {
            return;
        }
        // A CR at the end may be the first half of a CRLF in the next piece.
        if (substr($data, -1) === "\r") {
            $this->pending = "\r";
            $data = (string) substr($data, 0, -1);
            if ($data === '') {
                return;
            }
        }
        $this->count($data);
    }

    /** Ends the stream: counts a last record without a line ending. */
    public function finish(): void
    {
        if ($this->finished) {
            return;
        }
        // Held back is a trailing CR, or the 1-2 bytes of a stream too short
        // to hold a BOM (then they are data).
        $rest = $this->pending;
        $this->pending = '';
        $this->bomChecked = true;
        if ($rest !== '') {
            $this->count($rest);
        }
        if (!$this->atRecordStart) {
            $this->records++;
            $this->atRecordStart = true;
        }
        $this->finished = true;
    }

    /** Records seen (header included). Call finish() first for the last one. */
    public function records(): int
    {
        return $this->records;
    }

    /** Records after the header line: the data rows of an export. */
    public function dataRows(): int
    {
        return $this->records > 0 ? $this->records - 1 : 0;
    }

    private function count(string $data): void
    {
        // Text inside a quoted field carried over from the last piece.
        if ($this->inQuote) {
            $close = strpos($data, '"');
            if ($close === false) {
                return; // the whole piece is field data
            }
            $data = 'q' . (string) substr($data, $close + 1);
            $this->inQuote = false;
        }
        $quotes = substr_count($data, '"');
        if ($quotes % 2 === 1) {
            // The last quote opens a field that goes on in the next piece.
            $data = (string) substr($data, 0, strrpos($data, '"')) . 'q';
            $this->inQuote = true;
            $quotes--;
        }
        if ($quotes > 0) {
            // Every quoted field (with its newlines and "" escapes) becomes one
            // placeholder byte, so the record it belongs to is not empty.
            $data = (string) preg_replace('/"[^"]*"/', 'q', $data);
        }
        if (strpos($data, "\r") !== false) {
            $data = strtr(str_replace("\r\n", "\n", $data), "\r", "\n");
        }
        $newlines = substr_count($data, "\n");
        if ($newlines === 0) {
            $this->atRecordStart = false;
            return;
        }
        // Each run of line endings ends one record, unless nothing of a
        // record came before it (leading or repeated empty lines).
        if (strpos($data, "\n\n") === false) {
            $runs = $newlines;
        } else {
            $runs = preg_match_all('/\n+/', $data);
        }
        if ($data[0] === "\n" && $this->atRecordStart) {
            $runs--;
        }
        $this->records += $runs;
        $this->atRecordStart = substr($data, -1) === "\n";
    }
}
