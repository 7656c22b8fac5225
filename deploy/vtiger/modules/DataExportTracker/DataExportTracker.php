<?php
/**
 * DataExportTracker: the module class Vtiger's vtlib looks for
 * (Vtiger_Module::getClassInstance) when it installs, updates, enables,
 * disables or removes the extension through Settings > Module Manager.
 *
 * vtlib itself writes the vtiger_tab row (and its profile, menu and
 * tab_info rows) and refreshes tabdata.php. vtlib_handler adds the rest,
 * exactly as `dxtracker vtiger install` does (Go package vtigerinstall;
 * keep the two in step):
 *   - the CRM Settings menu entry "Data Export Tracker" in the Extensions
 *     block (else Other Settings), vtiger_settings_field;
 *   - the HEADERSCRIPT link that loads tracker.js on every page, with tabid 0
 *     so that it loads for every user, not only for administrators;
 *   - the one guarded line in config_override.php that loads the probe;
 *   - vtiger_tab.parent NULL, as Vtiger does for its own Settings extension
 *     (ExtensionStore), so the module does not appear in the app menus.
 * Disabling the module hides the menu entry and removes the link and the
 * line; enabling puts them back.
 *
 * Errors never reach the Module Manager page: they go to PHP's error log,
 * prefixed "[dxtracker] ", and the step is skipped.
 *
 * PHP 7.2+.
 */
class DataExportTracker
{
    const MODULE = 'DataExportTracker';
    const SETTINGS_NAME = 'Data Export Tracker';
    const SETTINGS_LINKTO = 'index.php?module=DataExportTracker&parent=Settings&view=Index';
    const LINK_TYPE = 'HEADERSCRIPT';
    const LINK_LABEL = 'DataExportTrackerJS';
    const LINK_URL = 'layouts/v7/modules/DataExportTracker/resources/tracker.js';
    const PROBE_LINE = "if (is_file(__DIR__ . '/modules/DataExportTracker/probe/bootstrap.php')) { include_once __DIR__ . '/modules/DataExportTracker/probe/bootstrap.php'; } // dxtracker-probe";

    /**
     * Called by vtlib with the module name and one of module.postinstall,
     * module.preuninstall, module.preupdate, module.postupdate,
     * module.enabled, module.disabled.
     */
    public function vtlib_handler($moduleName, $eventType)
    {
        if ($moduleName !== self::MODULE) {
            return;
        }
        switch ($eventType) {
            case 'module.postinstall':
            case 'module.postupdate':
            case 'module.enabled':
                self::step('clear the app menu parent', function () { self::clearParent(); });
                self::step('add the Settings menu entry', function () { self::addSettingsField(); });
                self::step('register tracker.js', function () { self::addHeaderScript(); });
                self::step('add the probe line to config_override.php', function () { self::editConfigOverride(true); });
                break;
            case 'module.disabled':
                self::step('hide the Settings menu entry', function () { self::hideSettingsField(); });
                self::step('unregister tracker.js', function () { self::removeHeaderScript(); });
                self::step('remove the probe line from config_override.php', function () { self::editConfigOverride(false); });
                break;
            case 'module.preuninstall':
                self::step('remove the Settings menu entry', function () { self::removeSettingsField(); });
                self::step('unregister tracker.js', function () { self::removeHeaderScript(); });
                self::step('remove the probe line from config_override.php', function () { self::editConfigOverride(false); });
                break;
        }
    }

    private static function step($what, $fn)
    {
        try {
            $fn();
        } catch (\Throwable $e) {
            error_log('[dxtracker] cannot ' . $what . ': ' . get_class($e) . ': ' . $e->getMessage());
        }
    }

    private static function db()
    {
        return PearDatabase::getInstance();
    }

    /** Runs a statement through Vtiger's database layer; throws on failure. */
    private static function query($sql, array $params = array())
    {
        $db = self::db();
        $result = $db->pquery($sql, $params);
        if ($result === false) {
            throw new RuntimeException('query failed: ' . $sql);
        }
        return $result;
    }

    private static function clearParent()
    {
        self::query("UPDATE vtiger_tab SET parent = NULL WHERE name = ? AND isentitytype = 0 AND parent IS NOT NULL AND parent <> ''", array(self::MODULE));
    }

    /** Next id from Vtiger's <table>_seq, skipping ids already in use. */
    private static function nextId($table, $idColumn)
    {
        $db = self::db();
        for ($i = 0; $i < 1000; $i++) {
            $id = (int) $db->getUniqueID($table);
            $used = self::query("SELECT 1 FROM $table WHERE $idColumn = ?", array($id));
            if ($db->num_rows($used) == 0) {
                return $id;
            }
        }
        throw new RuntimeException("$table" . '_seq is far behind the table; no free id');
    }

    private static function addSettingsField()
    {
        $db = self::db();
        $res = self::query('SELECT fieldid FROM vtiger_settings_field WHERE name = ? ORDER BY fieldid', array(self::SETTINGS_NAME));
        if ($db->num_rows($res) > 0) {
            $fieldId = (int) $db->query_result($res, 0, 'fieldid');
            self::query('UPDATE vtiger_settings_field SET linkto = ?, active = 0 WHERE fieldid = ?', array(self::SETTINGS_LINKTO, $fieldId));
            return;
        }
        $blockId = 0;
        foreach (array('LBL_EXTENSIONS', 'LBL_OTHER_SETTINGS') as $label) {
            $res = self::query('SELECT blockid FROM vtiger_settings_blocks WHERE label = ? ORDER BY blockid', array($label));
            if ($db->num_rows($res) > 0) {
                $blockId = (int) $db->query_result($res, 0, 'blockid');
                break;
            }
        }
        if ($blockId === 0) {
            $blockId = self::nextId('vtiger_settings_blocks', 'blockid');
            $res = self::query('SELECT COALESCE(MAX(sequence), 0) + 1 AS seq FROM vtiger_settings_blocks');
            self::query('INSERT INTO vtiger_settings_blocks (blockid, label, sequence) VALUES (?, ?, ?)',
                array($blockId, 'LBL_OTHER_SETTINGS', (int) $db->query_result($res, 0, 'seq')));
        }
        $fieldId = self::nextId('vtiger_settings_field', 'fieldid');
        $res = self::query('SELECT COALESCE(MAX(sequence), 0) + 1 AS seq FROM vtiger_settings_field WHERE blockid = ?', array($blockId));
        self::query('INSERT INTO vtiger_settings_field (fieldid, blockid, name, iconpath, description, linkto, sequence, active, pinned) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)',
            array($fieldId, $blockId, self::SETTINGS_NAME, '', self::SETTINGS_NAME, self::SETTINGS_LINKTO, (int) $db->query_result($res, 0, 'seq')));
    }

    private static function hideSettingsField()
    {
        self::query('UPDATE vtiger_settings_field SET active = 1 WHERE name = ? AND linkto = ?', array(self::SETTINGS_NAME, self::SETTINGS_LINKTO));
    }

    private static function removeSettingsField()
    {
        self::query('DELETE FROM vtiger_settings_field WHERE name = ? AND linkto = ?', array(self::SETTINGS_NAME, self::SETTINGS_LINKTO));
    }

    private static function addHeaderScript()
    {
        $db = self::db();
        $res = self::query('SELECT linkid FROM vtiger_links WHERE linktype = ? AND linklabel = ? AND linkurl = ? ORDER BY linkid',
            array(self::LINK_TYPE, self::LINK_LABEL, self::LINK_URL));
        if ($db->num_rows($res) > 0) {
            self::query('UPDATE vtiger_links SET tabid = 0 WHERE linkid = ?', array((int) $db->query_result($res, 0, 'linkid')));
            return;
        }
        $linkId = self::nextId('vtiger_links', 'linkid');
        self::query("INSERT INTO vtiger_links (linkid, tabid, linktype, linklabel, linkurl, linkicon, sequence) VALUES (?, 0, ?, ?, ?, '', 0)",
            array($linkId, self::LINK_TYPE, self::LINK_LABEL, self::LINK_URL));
    }

    private static function removeHeaderScript()
    {
        self::query('DELETE FROM vtiger_links WHERE linktype = ? AND linklabel = ? AND linkurl = ?',
            array(self::LINK_TYPE, self::LINK_LABEL, self::LINK_URL));
    }

    /**
     * Adds ($add) or removes the probe line in config_override.php in the
     * Vtiger root. The edit is the one the Go installer makes, so either can
     * undo the other's: appended at the end (after a line break in the
     * file's style when it ends without one), or, when the file ends with a
     * closing ?> tag, on its own line before the line holding that tag.
     */
    private static function editConfigOverride($add)
    {
        $file = dirname(dirname(__DIR__)) . '/config_override.php';
        $exists = is_file($file);
        $old = $exists ? file_get_contents($file) : '';
        if ($old === false) {
            throw new RuntimeException("cannot read $file");
        }
        $new = $add ? self::insertProbeLine($old) : self::deleteProbeLine($old);
        if ($new === $old) {
            return;
        }
        if (!$exists && !is_writable(dirname($file))) {
            throw new RuntimeException("cannot create $file: the folder is not writable; add this line to it by hand: " . self::PROBE_LINE);
        }
        if ($exists && !is_writable($file)) {
            throw new RuntimeException("$file is not writable; " . ($add ? 'add' : 'remove') . ' this line by hand: ' . self::PROBE_LINE);
        }
        $tmp = tempnam(dirname($file), '.config_override.php.dxtracker-');
        if ($tmp === false || file_put_contents($tmp, $new) !== strlen($new)) {
            if ($tmp !== false) {
                @unlink($tmp);
            }
            throw new RuntimeException("cannot write next to $file");
        }
        @chmod($tmp, $exists ? (fileperms($file) & 0777) : 0644);
        if (!rename($tmp, $file)) {
            @unlink($tmp);
            throw new RuntimeException("cannot replace $file");
        }
    }

    /** @return array<int,array{0:int,1:int,2:int}> lines as [start, end, terminator length] */
    private static function splitLines($s)
    {
        $lines = array();
        $n = strlen($s);
        $start = 0;
        while ($start < $n) {
            $nl = strpos($s, "\n", $start);
            if ($nl === false) {
                $lines[] = array($start, $n, 0);
                break;
            }
            $end = $nl;
            $term = 1;
            if ($end > $start && $s[$end - 1] === "\r") {
                $end--;
                $term = 2;
            }
            $lines[] = array($start, $end, $term);
            $start = $end + $term;
        }
        return $lines;
    }

    private static function isProbeLine($line)
    {
        return trim($line) === self::PROBE_LINE;
    }

    private static function insertProbeLine($s)
    {
        foreach (self::splitLines($s) as $l) {
            if (self::isProbeLine(substr($s, $l[0], $l[1] - $l[0]))) {
                return $s;
            }
        }
        $nl = strpos($s, "\r\n") !== false ? "\r\n" : "\n";
        $body = ltrim(preg_replace('/^\xEF\xBB\xBF/', '', $s), " \t\r\n");
        if ($body === '') {
            return '<?php' . $nl . self::PROBE_LINE . $nl;
        }
        if (strncasecmp($body, '<?php', 5) !== 0) {
            throw new RuntimeException('config_override.php does not begin with <?php; add this line by hand: ' . self::PROBE_LINE);
        }
        $mode = self::phpModeAt($s, strlen($s));
        if ($mode === 'code' || $mode === 'line-comment') {
            if (substr($s, -1) === "\n") {
                return $s . self::PROBE_LINE . $nl;
            }
            if (substr($s, -1) === "\r") {
                // a lone CR would pair with a LF into one line break
                return $s . "\r\n" . self::PROBE_LINE;
            }
            return $s . $nl . self::PROBE_LINE;
        }
        if ($mode === 'html') {
            $tag = strrpos($s, '?>');
            if ($tag !== false && $tag > 0) {
                $prevNl = strrpos(substr($s, 0, $tag), "\n");
                $ls = $prevNl === false ? 0 : $prevNl + 1;
                if ($ls > 0 && self::phpModeAt($s, $ls) === 'code') {
                    return substr($s, 0, $ls) . self::PROBE_LINE . $nl . substr($s, $ls);
                }
            }
        }
        throw new RuntimeException('cannot find a safe place in config_override.php (it ends inside a comment, a string or HTML); add this line by hand: ' . self::PROBE_LINE);
    }

    private static function deleteProbeLine($s)
    {
        $lines = self::splitLines($s);
        $drop = array();
        foreach ($lines as $i => $l) {
            if (!self::isProbeLine(substr($s, $l[0], $l[1] - $l[0]))) {
                continue;
            }
            $from = $l[0];
            $to = $l[1] + $l[2];
            if ($l[2] === 0 && $i > 0) {
                $from -= $lines[$i - 1][2];
            }
            for ($k = $from; $k < $to; $k++) {
                $drop[$k] = true;
            }
        }
        if (!$drop) {
            return $s;
        }
        $out = '';
        $n = strlen($s);
        for ($k = 0; $k < $n; $k++) {
            if (!isset($drop[$k])) {
                $out .= $s[$k];
            }
        }
        return $out;
    }

    /**
     * What PHP's lexer is inside of at byte $off: 'html', 'code', 'single',
     * 'double', 'line-comment' or 'block-comment' (heredocs not recognised).
     */
    private static function phpModeAt($s, $off)
    {
        $mode = 'html';
        $n = strlen($s);
        for ($i = 0; $i < $off && $i < $n; $i++) {
            $c = $s[$i];
            $next = $i + 1 < $n ? $s[$i + 1] : '';
            switch ($mode) {
                case 'html':
                    if ($c === '<' && $next === '?') {
                        $mode = 'code';
                        $i++;
                        if ($i + 3 < $n && strcasecmp(substr($s, $i + 1, 3), 'php') === 0) {
                            $i += 3;
                        }
                    }
                    break;
                case 'code':
                    if ($c === "'") {
                        $mode = 'single';
                    } elseif ($c === '"') {
                        $mode = 'double';
                    } elseif ($c === '#' || ($c === '/' && $next === '/')) {
                        $mode = 'line-comment';
                    } elseif ($c === '/' && $next === '*') {
                        $mode = 'block-comment';
                        $i++;
                    } elseif ($c === '?' && $next === '>') {
                        $mode = 'html';
                        $i++;
                    }
                    break;
                case 'single':
                case 'double':
                    if ($c === '\\') {
                        $i++;
                    } elseif (($mode === 'single' && $c === "'") || ($mode === 'double' && $c === '"')) {
                        $mode = 'code';
                    }
                    break;
                case 'line-comment':
                    if ($c === "\n") {
                        $mode = 'code';
                    } elseif ($c === '?' && $next === '>') {
                        $mode = 'html';
                        $i++;
                    }
                    break;
                case 'block-comment':
                    if ($c === '*' && $next === '/') {
                        $mode = 'code';
                        $i++;
                    }
                    break;
            }
        }
        return $mode;
    }
}
