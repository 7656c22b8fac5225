<?php
/**
 * The Settings model of Data Export Tracker: names the module so Vtiger's
 * Settings chrome (menu highlight, page title, URLs) knows it. The data of
 * the page comes from modules/DataExportTracker/lib, not from here.
 */
class Settings_DataExportTracker_Module_Model extends Settings_Vtiger_Module_Model
{
    var $name = 'DataExportTracker';

    public function getIndexViewUrl()
    {
        return 'index.php?module=DataExportTracker&parent=Settings&view=Index';
    }
}
