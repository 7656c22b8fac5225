package vtigerinstall

import (
	"strings"
	"testing"

	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
)

func TestParseDBName(t *testing.T) {
	for _, c := range []struct{ src, name, err string }{
		{"<?php\n$dbconfig['db_name'] = 'vtiger';\n", "vtiger", ""},
		{"<?php\n$dbconfig[\"db_name\"]=\"crm_8\";", "crm_8", ""},
		{"<?php\n$dbconfig['db_name'] = 'a';\n$dbconfig['db_name'] = 'b';\n", "b", ""},
		{"<?php\n// $dbconfig['db_name'] = 'old';\n# $dbconfig['db_name'] = 'older';\n/* $dbconfig['db_name'] = 'oldest'; */\n$dbconfig['db_name'] = 'live';\n$x = '// not a comment';\n", "live", ""},
		{"<?php\n$dbconfig['db_name'] = 'live';\n// $dbconfig['db_name'] = 'later but commented';\n", "live", ""},
		{"<?php\n$dbconfig['db_name'] = getenv('DB');\n", "", "not to a plain quoted name"},
		{"<?php\n$dbconfig['db_name'] = \"$name\";\n", "", "not to a plain quoted name"},
		{"<?php\n$dbconfig['db_name'] = '';\n", "", "empty name"},
		{"<?php\n$dbconfig['db_server'] = 'x';\n", "", "no $dbconfig['db_name']"},
		{"<?php\n$dbconfig['db_name\"] = 'x';\n", "", "malformed"},
	} {
		name, err := parseDBName([]byte(c.src))
		if name != c.name || (c.err == "") != (err == "") || !strings.Contains(err, c.err) {
			t.Errorf("%q: got %q %q, want %q %q", c.src, name, err, c.name, c.err)
		}
	}
}

func TestSupportedVersions(t *testing.T) {
	man := Manifest{Name: ModuleName, Version: "1.0.0"}
	man.Dependencies.VtigerVersion, man.Dependencies.VtigerMaxVersion = "7.0.0", "8.*"
	for v, ok := range map[string]bool{
		"7.0.0": true, "7.1.0": true, "7.5.0": true, "8.0.0": true, "8.3.0": true, "8.4": true, "7.0.0RC": true,
		"6.5.0": false, "6.0.0rc": false, "5.4.0": false, "9.0.0": false, "10.0": false,
	} {
		if got := checkSupported(v, man) == ""; got != ok {
			t.Errorf("Vtiger %s supported = %v, want %v", v, got, ok)
		}
	}
}

// tabdata.php and parent_tabdata.php exactly as Vtiger's generator writes
// them (Vtiger_Deprecated::createModuleMetaFile / createModuleGroupMetaFile
// with constructArray and friends): string keys quoted, trailing commas in
// the tab arrays but not in the action arrays, PHP's keep-first-position
// rule for a key assigned twice, hidden menus and disabled modules left out.
func TestCachesRenderLikeVtiger(t *testing.T) {
	db, _ := openDSN(t, sandboxtest.NewDatabase(t))
	ctx := testCtx(t)
	_, err := db.ExecContext(ctx, `
CREATE TABLE vtiger_tab (tabid INT PRIMARY KEY, name VARCHAR(25), presence INT, ownedby INT);
INSERT INTO vtiger_tab VALUES (3,'Home',0,1),(1,'Dashboard',0,1),(16,'Events',2,0),(50,'DataExportTracker',1,0);
CREATE TABLE vtiger_actionmapping (actionid INT, actionname VARCHAR(200), securitycheck INT, PRIMARY KEY (actionid, actionname));
INSERT INTO vtiger_actionmapping VALUES (0,'Save',0),(0,'SaveVendor',1),(1,'EditView',0),(1,'QuickCreate',0),(7,'CreateView',0),(3,'index',0);
CREATE TABLE vtiger_parenttab (parenttabid INT PRIMARY KEY, parenttab_label VARCHAR(100), sequence INT, visible INT);
INSERT INTO vtiger_parenttab VALUES (1,'My Home Page',2,0),(8,'Settings',1,0),(9,'Hidden',3,1);
CREATE TABLE vtiger_parenttabrel (parenttabid INT, tabid INT, sequence INT);
INSERT INTO vtiger_parenttabrel VALUES (1,3,2),(1,1,1),(8,50,1),(8,16,2);`)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	tab, err := renderTabdata(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	want := "<?php\n\n\n//This file contains the commonly used variables \n\n" +
		"$tab_info_array=array('Dashboard'=>1,'Home'=>3,'Events'=>16,'DataExportTracker'=>50,);\n\n" +
		"$tab_seq_array=array('1'=>0,'3'=>0,'16'=>2,'50'=>1,);\n\n" +
		"$tab_ownedby_array=array('1'=>1,'3'=>1,'16'=>0,'50'=>0,);\n\n" +
		"$action_id_array=array('Save'=>0,'SaveVendor'=>0,'EditView'=>1,'QuickCreate'=>1,'index'=>3,'CreateView'=>7);\n\n" +
		"$action_name_array=array(0=>'Save',1=>'QuickCreate',3=>'index',7=>'CreateView');\n" +
		"?>"
	if string(tab) != want {
		t.Errorf("tabdata.php:\n%s\nwant:\n%s", tab, want)
	}
	parent, err := renderParentTabdata(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	want = "<?php\n\n\n//This file contains the commonly used variables \n\n" +
		"$parent_tab_info_array=array(8=>'Settings',1=>'My Home Page');\n\n\n" +
		"$parent_child_tab_rel_array=array(8=>array(16,),1=>array(1,3,),);\n\n\n\n?>"
	if string(parent) != want {
		t.Errorf("parent_tabdata.php:\n%s\nwant:\n%s", parent, want)
	}

	if _, err := tx.ExecContext(ctx, `INSERT INTO vtiger_tab VALUES (60, 'Bad''Name', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	var bad unsafeValueError
	if _, err := renderTabdata(ctx, tx); err == nil || !strings.Contains(err.Error(), "Bad'Name") {
		t.Errorf("unsafe name: %v", err)
	} else if !asUnsafe(err, &bad) {
		t.Errorf("error type %T", err)
	}
}

func asUnsafe(err error, target *unsafeValueError) bool {
	e, ok := err.(unsafeValueError)
	if ok {
		*target = e
	}
	return ok
}
