<?php
require_once __DIR__ . '/CsvCounter.php';

/**
 * The bytes of one take-out, captured as they pass: size and SHA-256 of
 * everything, the first capture_max_bytes of it kept in php://temp (at most
 * 1 MiB in memory, the rest in a temporary file PHP deletes itself), CSV
 * records counted on the way, and optionally the first bytes kept as a
 * string for a quick look at what the response is.
 *
 * Never holds the whole content in a PHP string: append() takes the pieces
 * as they come and feeds them on in slices of at most 1 MiB.
 */
final class Dxt_Capture
{
    /** Memory php://temp may use before it moves to a temporary file. */
    const MEMORY_BYTES = 1048576;
    /** Largest slice handed to the hash, the file and the CSV counter at once. */
    const SLICE = 1048576;
    /** Small appends are gathered up to this size before they are processed. */
    const BATCH = 65536;

    /** @var int */
    private $maxBytes;
    /** @var bool */
    private $keep;
    /** @var Dxt_CsvCounter|null */
    private $csv;
    /** @var int */
    private $sniffBytes;

    /** @var resource|null php://temp with the kept bytes */
    private $stream;
    /** @var HashContext|resource|null created at the first byte */
    private $hash;
    /** @var string|null final hex digest, once computed */
    private $digest;
    /** @var string small appends not processed yet (less than BATCH bytes) */
    private $pending = '';
    /** @var int bytes seen */
    private $size = 0;
    /** @var int bytes kept */
    private $stored = 0;
    /** @var string the first $sniffBytes bytes */
    private $head = '';
    /** @var bool a write to the temporary stream failed */
    private $storeFailed = false;
    /** @var bool the hash state stopped working (see sha256()) */
    private $hashBroken = false;

    /**
     * @param int $maxBytes bytes kept at most (more are hashed and counted, not kept)
     * @param bool $countCsv count CSV records on the way
     * @param bool $keepContent keep bytes at all (false: only size, hash, count)
     * @param int $sniffBytes keep this many first bytes as a string (head())
     */
    public function __construct(int $maxBytes = 104857600, bool $countCsv = false, bool $keepContent = true, int $sniffBytes = 0)
    {
        $this->maxBytes = max(0, $maxBytes);
        $this->keep = $keepContent;
        $this->csv = $countCsv ? new Dxt_CsvCounter() : null;
        $this->sniffBytes = max(0, $sniffBytes);
    }

    /**
     * Takes the next bytes of the content. Pieces of any size: small ones
     * (an output buffer may hand over every fputcsv line) are gathered and
     * processed in batches.
     */
    public function append(string $bytes): void
    {
        $len = strlen($bytes);
        if ($len === 0 || $this->digest !== null) {
            return;
        }
        if ($this->sniffBytes > 0 && strlen($this->head) < $this->sniffBytes) {
            $this->head .= (string) substr($bytes, 0, $this->sniffBytes - strlen($this->head));
        }
        if ($len < self::BATCH) {
            $this->pending .= $bytes;
            if (strlen($this->pending) < self::BATCH) {
                return;
            }
            $bytes = $this->pending;
            $len = strlen($bytes);
            $this->pending = '';
        } elseif ($this->pending !== '') {
            $this->process($this->pending, strlen($this->pending));
            $this->pending = '';
        }
        $this->process($bytes, $len);
    }

    /** Processes what append() gathered. */
    private function drain(): void
    {
        if ($this->pending !== '') {
            $p = $this->pending;
            $this->pending = '';
            $this->process($p, strlen($p));
        }
    }

    private function process(string $bytes, int $len): void
    {
        // Created lazily: an output handler may see its first byte only at
        // the very end of the request (see the probe), and a context made
        // then is fresh.
        if ($this->hash === null) {
            $this->hash = hash_init('sha256');
        }
        if ($len <= self::SLICE) {
            $this->take($bytes, $len);
            return;
        }
        for ($off = 0; $off < $len; $off += self::SLICE) {
            $slice = (string) substr($bytes, $off, self::SLICE);
            $this->take($slice, strlen($slice));
        }
    }

    private function take(string $bytes, int $len): void
    {
        if (!$this->hashBroken) {
            try {
                if (@hash_update($this->hash, $bytes) === false) {
                    $this->hashBroken = true;
                }
            } catch (Throwable $e) {
                $this->hashBroken = true;
            }
        }
        if ($this->csv !== null) {
            $this->csv->feed($bytes);
        }
        if ($this->keep && !$this->storeFailed && $this->stored < $this->maxBytes) {
            if ($this->stream === null) {
                $this->stream = fopen('php://temp/maxmemory:' . self::MEMORY_BYTES, 'w+b');
                if ($this->stream === false) {
                    $this->stream = null;
                    $this->storeFailed = true;
                }
            }
            if ($this->stream !== null) {
                $room = $this->maxBytes - $this->stored;
                $part = $len <= $room ? $bytes : (string) substr($bytes, 0, $room);
                $written = fwrite($this->stream, $part);
                if ($written !== strlen($part)) {
                    $this->storeFailed = true;
                }
                $this->stored += $written === false ? 0 : $written;
            }
        }
        $this->size += $len;
    }

    /** Bytes of the original content seen so far. */
    public function size(): int
    {
        return $this->size + strlen($this->pending);
    }

    /** Bytes kept (what stream() returns). */
    public function storedSize(): int
    {
        $this->drain();
        return $this->keep ? $this->stored : 0;
    }

    /** Whether the content is kept at all. */
    public function keepsContent(): bool
    {
        return $this->keep;
    }

    /** Whether fewer bytes are kept than were seen, though keeping was on. */
    public function truncated(): bool
    {
        $this->drain();
        return $this->keep && $this->stored < $this->size;
    }

    /** Whether keeping failed (no temporary space): the kept bytes are incomplete. */
    public function storeFailed(): bool
    {
        $this->drain();
        return $this->storeFailed;
    }

    /**
     * Lowercase hex SHA-256 of everything seen. Ends the capture: later
     * bytes are ignored. Null only if the hash state was lost (see below).
     */
    public function sha256(): ?string
    {
        if ($this->digest !== null) {
            return $this->digest;
        }
        $this->drain();
        if ($this->hash === null) {
            $this->digest = hash('sha256', '');
            return $this->digest;
        }
        $d = false;
        if (!$this->hashBroken) {
            try {
                $d = @hash_final($this->hash);
            } catch (Throwable $e) {
                $d = false;
            }
        }
        if (!is_string($d)) {
            // Some PHP 7 builds free a HashContext in the destructor phase of
            // request shutdown. The kept bytes still are the whole content
            // unless truncated: hash those instead.
            $d = $this->rehashKept();
        }
        $this->digest = $d;
        return $d;
    }

    private function rehashKept(): ?string
    {
        if (!$this->keep || $this->stream === null || $this->stored !== $this->size || $this->storeFailed) {
            return null;
        }
        $h = hash_init('sha256');
        rewind($this->stream);
        while (!feof($this->stream)) {
            $piece = fread($this->stream, self::SLICE);
            if ($piece === false) {
                return null;
            }
            hash_update($h, $piece);
        }
        return hash_final($h);
    }

    /** CSV records seen, header included; null when not counting. */
    public function csvRecords(): ?int
    {
        if ($this->csv === null) {
            return null;
        }
        $this->drain();
        $this->csv->finish();
        return $this->csv->records();
    }

    /** CSV records after the header line; null when not counting. */
    public function csvDataRows(): ?int
    {
        if ($this->csv === null) {
            return null;
        }
        $this->drain();
        $this->csv->finish();
        return $this->csv->dataRows();
    }

    /** The first bytes, as many as $sniffBytes asked for. */
    public function head(): string
    {
        return $this->head;
    }

    /**
     * The kept bytes, rewound to the start; null when nothing is kept.
     *
     * @return resource|null
     */
    public function stream()
    {
        $this->drain();
        if (!$this->keep || $this->stream === null) {
            return null;
        }
        rewind($this->stream);
        return $this->stream;
    }

    /** Frees the temporary stream. */
    public function close(): void
    {
        if ($this->stream !== null) {
            fclose($this->stream);
            $this->stream = null;
        }
    }
}
