/*
 * Data Export Tracker: copy detection in Vtiger pages (CONTRACTS §6).
 *
 * Loaded on every Vtiger page as a HEADERSCRIPT link. On start it asks the
 * extension once for a beacon token (index.php?module=DataExportTracker&
 * action=BeaconToken, cached in sessionStorage until 5 minutes before it
 * expires). When copy tracking is off it stops there: no listener is added.
 * Otherwise it watches copy, cut and contextmenu on the document (capture
 * phase, passive), reads the selection (text up to max_chars, characters,
 * table rows it touches) and the page (module, view, record), and sends one
 * beacon with navigator.sendBeacon, falling back to fetch(keepalive).
 *
 * It never calls preventDefault, never touches the clipboard, never throws
 * into the page and never writes to the console. Browser-side detection is
 * best effort: a user can switch scripts off or read the screen.
 */
(function () {
	'use strict';

	var TOKEN_URL = 'index.php?module=DataExportTracker&action=BeaconToken';
	var RELAY_ACTION = 'action=Relay';
	var CACHE_PREFIX = 'dxt.beacon.v1.';
	var REFRESH_MARGIN_MS = 5 * 60 * 1000;
	var MAX_BODY = 128 * 1024;
	var KEEPALIVE_MAX = 60 * 1024; // browsers allow 64 KiB in flight for keepalive/sendBeacon

	function noop() {}

	if (typeof window === 'undefined' || typeof document === 'undefined' || window.__dxtTracker) {
		return;
	}
	window.__dxtTracker = true;

	var state = {
		config: null,     // {token, expires, beacon_url, max_chars, enabled, relay}
		pending: null,    // Promise of a token request in flight
		listening: false
	};

	// ---- identity and cache ------------------------------------------------

	function currentUserId() {
		try {
			var meta = window._USERMETA;
			if (meta && meta.id !== undefined && meta.id !== null) {
				return String(meta.id);
			}
		} catch (e) { /* ignore */ }
		return null;
	}

	function cacheKey() {
		return CACHE_PREFIX + (currentUserId() || 'page');
	}

	function tokenUser(token) {
		var m = /^v1\.(\d+)\./.exec(token || '');
		return m ? m[1] : null;
	}

	function fresh(cfg) {
		return !!cfg && typeof cfg.expires === 'number' && cfg.expires * 1000 - REFRESH_MARGIN_MS > Date.now();
	}

	// A cached token of another user (after a logout and login in the same
	// tab) must never be used: copies would be logged under the wrong name.
	function belongsHere(cfg) {
		var uid = currentUserId();
		return !cfg.enabled || !uid || tokenUser(cfg.token) === uid;
	}

	function readCache() {
		try {
			var raw = window.sessionStorage && window.sessionStorage.getItem(cacheKey());
			if (!raw) {
				return null;
			}
			var cfg = normalize(JSON.parse(raw));
			return cfg && fresh(cfg) && belongsHere(cfg) ? cfg : null;
		} catch (e) {
			return null;
		}
	}

	function writeCache(cfg) {
		try {
			if (window.sessionStorage) {
				window.sessionStorage.setItem(cacheKey(), JSON.stringify(cfg));
			}
		} catch (e) { /* storage full or disabled: fine, we ask again next page */ }
	}

	// Accepts the action's plain JSON and Vtiger's {success, result} wrapper.
	function normalize(data) {
		if (!data || typeof data !== 'object') {
			return null;
		}
		if (data.result && typeof data.result === 'object') {
			data = data.result;
		}
		var enabled = data.enabled === true;
		var expires = Number(data.expires);
		if (!isFinite(expires) || expires <= 0) {
			return null;
		}
		var cfg = {
			enabled: enabled,
			expires: expires,
			token: typeof data.token === 'string' ? data.token : '',
			beacon_url: typeof data.beacon_url === 'string' ? data.beacon_url : '',
			max_chars: Math.max(0, Math.floor(Number(data.max_chars) || 0)),
			relay: data.relay === true
		};
		if (enabled && (!cfg.token || !cfg.beacon_url)) {
			return null;
		}
		if (!cfg.relay && cfg.beacon_url.indexOf(RELAY_ACTION) !== -1) {
			cfg.relay = true;
		}
		return cfg;
	}

	function requestConfig() {
		if (state.pending) {
			return state.pending;
		}
		if (typeof window.fetch !== 'function') {
			return Promise.resolve(null);
		}
		state.pending = window.fetch(TOKEN_URL, {
			method: 'GET',
			credentials: 'same-origin',
			cache: 'no-store',
			headers: {'Accept': 'application/json', 'X-Requested-With': 'XMLHttpRequest'}
		}).then(function (res) {
			return res.ok ? res.json() : null;
		}).then(function (data) {
			var cfg = normalize(data);
			if (cfg && belongsHere(cfg)) {
				state.config = cfg;
				writeCache(cfg);
				return cfg;
			}
			return null;
		}).catch(function () {
			return null;
		}).then(function (cfg) {
			state.pending = null;
			return cfg;
		});
		return state.pending;
	}

	// The config to send with: the current one while fresh, else a new one.
	// A token close to expiry is still used once while a new one is fetched.
	function usableConfig() {
		var cfg = state.config;
		if (fresh(cfg)) {
			return Promise.resolve(cfg);
		}
		if (cfg && cfg.expires * 1000 > Date.now() + 5000) {
			requestConfig().catch(noop);
			return Promise.resolve(cfg);
		}
		return requestConfig();
	}

	// ---- what was copied ---------------------------------------------------

	function countChars(s) {
		var pairs = s.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g);
		return s.length - (pairs ? pairs.length : 0);
	}

	// The first n characters (code points) of s, never splitting a pair.
	function cutChars(s, n) {
		if (s.length <= n) {
			return s;
		}
		var i = 0;
		var c = 0;
		while (i < s.length && c < n) {
			var code = s.charCodeAt(i);
			i += code >= 0xD800 && code <= 0xDBFF && i + 1 < s.length ? 2 : 1;
			c++;
		}
		return s.slice(0, i);
	}

	function fieldSelection() {
		var el = document.activeElement;
		if (!el) {
			return null;
		}
		var tag = (el.tagName || '').toLowerCase();
		if (tag !== 'textarea' && tag !== 'input') {
			return null;
		}
		try {
			var start = el.selectionStart;
			var end = el.selectionEnd;
			if (typeof start === 'number' && typeof end === 'number' && end > start) {
				return String(el.value).substring(start, end);
			}
		} catch (e) { /* input types without selection */ }
		return null;
	}

	function elementOf(node) {
		return node && node.nodeType === 1 ? node : (node ? node.parentElement : null);
	}

	// Table rows (<tr>) the selection touches, each counted once.
	function selectedRows(sel) {
		var seen = new Set();
		for (var r = 0; r < sel.rangeCount; r++) {
			var range = sel.getRangeAt(r);
			if (range.collapsed) {
				continue;
			}
			var root = elementOf(range.commonAncestorContainer);
			if (!root) {
				continue;
			}
			var own = root.closest ? root.closest('tr') : null;
			if (own) {
				seen.add(own);
				continue;
			}
			var rows = root.getElementsByTagName('tr');
			for (var i = 0; i < rows.length; i++) {
				if (!seen.has(rows[i]) && range.intersectsNode(rows[i])) {
					seen.add(rows[i]);
				}
			}
		}
		return seen.size;
	}

	function hiddenValue(id) {
		var el = document.getElementById(id);
		return el && typeof el.value === 'string' && el.value !== '' ? el.value : null;
	}

	function pageContext() {
		var params = null;
		try {
			params = new URLSearchParams(window.location.search);
		} catch (e) { /* very old browser */ }
		function param(name) {
			var v = params ? params.get(name) : null;
			return v !== null && v !== '' ? v : null;
		}
		return {
			module: param('module') || hiddenValue('module'),
			view: param('view') || hiddenValue('view'),
			record: param('record') || hiddenValue('recordId')
		};
	}

	function collect(kind, maxChars) {
		var text = fieldSelection();
		var rows = 0;
		if (text === null) {
			var sel = window.getSelection ? window.getSelection() : null;
			text = sel ? String(sel) : '';
			rows = sel && text !== '' ? selectedRows(sel) : 0;
		}
		if (text === '') {
			return null; // nothing selected, nothing taken
		}
		var ctx = pageContext();
		return {
			kind: kind,
			url: String(window.location.href).slice(0, 2048),
			module: ctx.module,
			view: ctx.view,
			record: ctx.record,
			chars: countChars(text),
			rows: rows,
			text: cutChars(text, maxChars),
			ts: Date.now()
		};
	}

	// ---- sending -----------------------------------------------------------

	function byteLength(s) {
		try {
			return new Blob([s]).size;
		} catch (e) {
			return s.length * 3;
		}
	}

	// JSON of the beacon, its text shortened until the body fits 128 KiB.
	function encode(beacon) {
		var json = JSON.stringify(beacon);
		var size = byteLength(json);
		while (size > MAX_BODY - 1024 && beacon.text.length > 0) {
			var keep = Math.floor(countChars(beacon.text) * (MAX_BODY - 1024) / size * 0.95);
			beacon.text = cutChars(beacon.text, Math.max(0, keep));
			json = JSON.stringify(beacon);
			size = byteLength(json);
		}
		return json;
	}

	function post(url, body, contentType, size) {
		var sent = false;
		try {
			if (navigator.sendBeacon && size <= KEEPALIVE_MAX) {
				var payload = contentType === 'application/json'
					? new Blob([body], {type: contentType})
					: new URLSearchParams(body);
				sent = navigator.sendBeacon(url, payload);
			}
		} catch (e) {
			sent = false;
		}
		if (sent || typeof window.fetch !== 'function') {
			return;
		}
		window.fetch(url, {
			method: 'POST',
			keepalive: size <= KEEPALIVE_MAX,
			credentials: 'same-origin',
			headers: {'Content-Type': contentType},
			body: body
		}).catch(noop);
	}

	function send(cfg, beacon) {
		if (!cfg || !cfg.enabled) {
			return;
		}
		beacon.token = cfg.token;
		var json = encode(beacon);
		if (cfg.relay) {
			// Vtiger checks its CSRF token on every POST to index.php, in the
			// form body: so the relay gets a form with the beacon in it.
			var form = 'beacon=' + encodeURIComponent(json);
			if (typeof window.csrfMagicToken === 'string') {
				form = (window.csrfMagicName || '__vtrftk') + '=' + encodeURIComponent(window.csrfMagicToken) + '&' + form;
			}
			post(cfg.beacon_url, form, 'application/x-www-form-urlencoded;charset=UTF-8', byteLength(form));
			return;
		}
		post(cfg.beacon_url, json, 'application/json', byteLength(json));
	}

	function handler(event) {
		try {
			var cfg = state.config;
			if (!cfg || !cfg.enabled) {
				return;
			}
			// Read the selection now: it may change before a token arrives.
			var beacon = collect(event.type, cfg.max_chars);
			if (!beacon) {
				return;
			}
			usableConfig().then(function (c) {
				send(c, beacon);
			}).catch(noop);
		} catch (e) { /* never into the page */ }
	}

	function listen() {
		if (state.listening) {
			return;
		}
		state.listening = true;
		var opts = {capture: true, passive: true};
		document.addEventListener('copy', handler, opts);
		document.addEventListener('cut', handler, opts);
		document.addEventListener('contextmenu', handler, opts);
	}

	function start() {
		try {
			// On Vtiger's login page there is no user: nothing to track.
			if (window._USERMETA && !currentUserId()) {
				return;
			}
			var cached = readCache();
			var ready = cached ? Promise.resolve(cached) : requestConfig();
			ready.then(function (cfg) {
				if (cfg && cfg.enabled) {
					state.config = cfg;
					listen();
				}
			}).catch(noop);
		} catch (e) { /* never into the page */ }
	}

	start();
})();
