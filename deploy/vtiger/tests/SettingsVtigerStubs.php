<?php
/**
 * Minimal stand-ins for the Vtiger classes the Settings page and the module
 * actions extend or call, so their own logic (permission checks, CSRF
 * checks, form handling, streaming, templates) runs in php-cli. They copy
 * no Vtiger code: each does only what the tests need. The parent
 * checkPermission here deliberately does NOT check for an administrator,
 * so the tests prove the extension's own check.
 */
if (!class_exists('AppException')) {
    class AppException extends Exception
    {
    }
}

final class Dxt_StubLog
{
    /** @var string[] calls the adapters made on the stubs */
    public static $calls = array();
}

if (!class_exists('Vtiger_Request')) {
    class Vtiger_Request
    {
        private $values;

        public function __construct(array $values)
        {
            $this->values = $values;
        }

        public function get($key, $default = '')
        {
            return isset($this->values[$key]) ? $this->values[$key] : $default;
        }

        public function getModule($raw = true)
        {
            $m = (string) $this->get('module');
            return !$raw && $this->get('parent') === 'Settings' ? 'Settings:' . $m : $m;
        }

        public function isAjax()
        {
            return false;
        }

        public function validateReadAccess()
        {
            Dxt_StubLog::$calls[] = 'validateReadAccess';
            return true;
        }

        public function validateWriteAccess()
        {
            Dxt_StubLog::$calls[] = 'validateWriteAccess';
            return true;
        }
    }
}

if (!class_exists('Users_Record_Model')) {
    class Users_Record_Model
    {
        /** @var Users_Record_Model|null */
        public static $current;
        private $data;

        public function __construct(array $data)
        {
            $this->data = $data;
        }

        public static function getCurrentUserModel()
        {
            return self::$current;
        }

        public function getId()
        {
            return $this->data['id'];
        }

        public function get($key)
        {
            return isset($this->data[$key]) ? $this->data[$key] : null;
        }

        public function isAdminUser()
        {
            return $this->data['is_admin'] === 'on';
        }
    }
}

if (!class_exists('Vtiger_Action_Controller')) {
    abstract class Vtiger_Action_Controller
    {
        public function checkPermission(Vtiger_Request $request)
        {
            return true;
        }

        public function validateRequest(Vtiger_Request $request)
        {
            return $request->validateReadAccess();
        }
    }
}

if (!class_exists('Settings_Vtiger_Index_View')) {
    class Settings_Vtiger_Index_View extends Vtiger_Action_Controller
    {
        /** @var object|null */
        public static $viewer;

        public function getViewer(Vtiger_Request $request)
        {
            return self::$viewer;
        }

        public function getHeaderCss(Vtiger_Request $request)
        {
            return array();
        }

        public function checkAndConvertCssStyles($files)
        {
            return $files;
        }
    }
}

if (!class_exists('Settings_Vtiger_Basic_Action')) {
    class Settings_Vtiger_Basic_Action extends Settings_Vtiger_Index_View
    {
        public function validateRequest(Vtiger_Request $request)
        {
            return $request->validateWriteAccess();
        }
    }
}

if (!class_exists('Vtiger_Viewer')) {
    class Vtiger_Viewer
    {
        public static function getDefaultLayoutName()
        {
            return 'v7';
        }
    }
}

if (!class_exists('Settings_Vtiger_Module_Model')) {
    class Settings_Vtiger_Module_Model
    {
    }
}

/** The language the stub vtranslate reads (en_us or ja_jp). */
final class Dxt_StubLang
{
    public static $language = 'en_us';
    private static $cache = array();

    public static function strings(string $module): array
    {
        $file = dirname(__DIR__) . '/languages/' . self::$language . '/' . str_replace(':', '/', $module) . '.php';
        if (!isset(self::$cache[$file])) {
            $languageStrings = array();
            if (is_file($file)) {
                include $file;
            }
            self::$cache[$file] = $languageStrings;
        }
        return self::$cache[$file];
    }
}

if (!function_exists('vtranslate')) {
    function vtranslate($key, $module = '')
    {
        $s = Dxt_StubLang::strings((string) $module);
        return isset($s[$key]) ? $s[$key] : $key;
    }
}

if (!function_exists('vtemplate_path')) {
    function vtemplate_path($template, $module = '')
    {
        return 'modules/' . str_replace(':', '/', $module) . '/' . $template;
    }
}

/** Signs in one of the seeded users for the adapters: 'admin' (id 1) or 'jsmith' (id 5). */
function dxt_stub_login(string $who, array $prefs = array()): void
{
    $users = array(
        'admin' => array('id' => 1, 'user_name' => 'admin', 'is_admin' => 'on'),
        'jsmith' => array('id' => 5, 'user_name' => 'jsmith', 'is_admin' => 'off'),
    );
    Users_Record_Model::$current = new Users_Record_Model($prefs + $users[$who] + array('status' => 'Active', 'time_zone' => 'UTC', 'date_format' => 'yyyy-mm-dd', 'hour_format' => '24'));
    $GLOBALS['dbconfig'] = Dxt_TestDb::dbconfig();
}

/** A Smarty 4 viewer like Vtiger's, or null when Smarty is not installed. */
function dxt_stub_smarty()
{
    if (!class_exists('Smarty')) {
        foreach (array('/usr/share/php/smarty4/bootstrap.php', '/usr/share/php/smarty4/Smarty.class.php', '/usr/share/php/smarty3/Smarty.class.php') as $f) {
            if (is_file($f)) {
                require_once $f;
                break;
            }
        }
    }
    if (!class_exists('Smarty')) {
        return null;
    }
    if (!class_exists('Dxt_StubViewer', false)) {
        eval('class Dxt_StubViewer extends Smarty {
            public $rendered = "";
            public function view($template, $module = "") {
                $this->rendered = $this->fetch(vtemplate_path($template, $module));
                return $this->rendered;
            }
        }');
    }
    $v = new Dxt_StubViewer();
    $v->setTemplateDir(dirname(__DIR__) . '/layouts/v7');
    $v->setCompileDir(Dxt_TestHarness::tempDir() . '/smarty_c');
    $v->registerPlugin('modifier', 'vtemplate_path', 'vtemplate_path');
    $v->registerPlugin('function', 'dxt_unused', function () {
        return '';
    });
    return $v;
}
