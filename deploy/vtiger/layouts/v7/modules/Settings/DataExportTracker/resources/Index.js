/*
 * Data Export Tracker Settings page: checks the Configuration form in the
 * browser before it is posted, with the same rules the server applies
 * (Dxt_Settings, which mirrors the daemon). The server checks again; this
 * only saves a round trip. Vanilla JavaScript, no dependencies.
 */
(function () {
	'use strict';

	var EMAIL = /^[A-Za-z0-9!#$%&'*+\/=?^_`{|}~\u0080-\uffff-]+(\.[A-Za-z0-9!#$%&'*+\/=?^_`{|}~\u0080-\uffff-]+)*@[A-Za-z0-9!#$%&'*+\/=?^_`{|}~\u0080-\uffff-]+(\.[A-Za-z0-9!#$%&'*+\/=?^_`{|}~\u0080-\uffff-]+)*$/;

	function split(v) {
		return v.split(/[,;\n]/).map(function (s) { return s.trim(); }).filter(function (s) { return s !== ''; });
	}

	function wholeNumber(v, min, max) {
		if (!/^[+-]?\d+$/.test(v.trim())) {
			return false;
		}
		var n = parseInt(v, 10);
		return n >= min && n <= max;
	}

	var RULES = {
		notify_admin_email: function (v) {
			var bad = split(v).filter(function (a) { return !EMAIL.test(a); });
			return bad.length ? '"' + bad[0] + '": not an e-mail address (e.g. security@example.com, several separated by commas)' : '';
		},
		notify_min_records: function (v) {
			return wholeNumber(v, 0, 2147483647) ? '' : 'want a whole number, 0 or more';
		},
		retention_days: function (v) {
			return wholeNumber(v, 1, 36500) ? '' : 'want a whole number from 1 to 36500';
		},
		company_domains: function (v) {
			var bad = split(v.toLowerCase()).filter(function (d) { return /[@\/ :]/.test(d) || d.indexOf('.') === -1; });
			return bad.length ? '"' + bad[0] + '": not a mail domain (e.g. example.com)' : '';
		},
		beacon_url: function (v) {
			v = v.trim();
			if (v === '' || v === 'relay' || (/^\/(?!\/)\S*$/.test(v)) || /^https?:\/\/[^\s"'<>\\]+$/i.test(v)) {
				return '';
			}
			return 'want empty, "relay", a path starting with / or an http(s) URL';
		}
	};

	function check(form) {
		var ok = true;
		Object.keys(RULES).forEach(function (name) {
			var input = form.elements[name];
			var slot = form.querySelector('[data-error-for="' + name + '"]');
			if (!input || !slot) {
				return;
			}
			var msg = RULES[name](String(input.value));
			slot.textContent = msg;
			if (msg) {
				ok = false;
			}
		});
		return ok;
	}

	function init() {
		var form = document.getElementById('DataExportTrackerConfigForm');
		if (!form) {
			return;
		}
		form.addEventListener('submit', function (e) {
			if (!check(form)) {
				e.preventDefault();
			}
		});
	}

	if (document.readyState === 'loading') {
		document.addEventListener('DOMContentLoaded', init);
	} else {
		init();
	}
})();
