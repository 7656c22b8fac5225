-- The Vtiger 8 tables the installer registers the extension in, which
-- sandbox/vtiger_minimal.sql does not have: definitions and rows copied from
-- ../shared/fixtures/vtiger8-schema.sql.gz and vtiger8-fixture.sql.gz (a real
-- Vtiger 8.0.0 database). vtiger_profile2standardpermissions is left empty
-- (the extension is not an entity module and never touches its rows).

CREATE TABLE `vtiger_settings_blocks` (
  `blockid` int(19) NOT NULL,
  `label` varchar(250) DEFAULT NULL,
  `sequence` int(19) DEFAULT NULL,
  PRIMARY KEY (`blockid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_settings_blocks` VALUES (1,'LBL_USER_MANAGEMENT',1);
INSERT INTO `vtiger_settings_blocks` VALUES (4,'LBL_OTHER_SETTINGS',10);
INSERT INTO `vtiger_settings_blocks` VALUES (5,'LBL_MODULE_MANAGER',2);
INSERT INTO `vtiger_settings_blocks` VALUES (6,'LBL_INTEGRATION',8);
INSERT INTO `vtiger_settings_blocks` VALUES (7,'LBL_AUTOMATION',3);
INSERT INTO `vtiger_settings_blocks` VALUES (8,'LBL_CONFIGURATION',4);
INSERT INTO `vtiger_settings_blocks` VALUES (9,'LBL_MARKETING_SALES',5);
INSERT INTO `vtiger_settings_blocks` VALUES (10,'LBL_INVENTORY',6);
INSERT INTO `vtiger_settings_blocks` VALUES (11,'LBL_MY_PREFERENCES',7);
INSERT INTO `vtiger_settings_blocks` VALUES (12,'LBL_EXTENSIONS',9);

CREATE TABLE `vtiger_settings_blocks_seq` (
  `id` int(11) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_settings_blocks_seq` VALUES (12);

CREATE TABLE `vtiger_settings_field` (
  `fieldid` int(19) NOT NULL,
  `blockid` int(19) DEFAULT NULL,
  `name` varchar(250) DEFAULT NULL,
  `iconpath` varchar(300) DEFAULT NULL,
  `description` text DEFAULT NULL,
  `linkto` text DEFAULT NULL,
  `sequence` int(19) DEFAULT NULL,
  `active` int(19) DEFAULT 0,
  `pinned` int(1) DEFAULT 0,
  PRIMARY KEY (`fieldid`),
  KEY `fk_1_vtiger_settings_field` (`blockid`),
  CONSTRAINT `fk_1_vtiger_settings_field` FOREIGN KEY (`blockid`) REFERENCES `vtiger_settings_blocks` (`blockid`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_settings_field` VALUES (1,1,'LBL_USERS','ico-users.gif','LBL_USER_DESCRIPTION','index.php?module=Users&parent=Settings&view=List',1,0,1);
INSERT INTO `vtiger_settings_field` VALUES (2,1,'LBL_ROLES','ico-roles.gif','LBL_ROLE_DESCRIPTION','index.php?module=Roles&parent=Settings&view=Index',2,0,0);
INSERT INTO `vtiger_settings_field` VALUES (3,1,'LBL_PROFILES','ico-profile.gif','LBL_PROFILE_DESCRIPTION','index.php?module=Profiles&parent=Settings&view=List',3,0,0);
INSERT INTO `vtiger_settings_field` VALUES (4,1,'USERGROUPLIST','ico-groups.gif','LBL_GROUP_DESCRIPTION','index.php?module=Groups&parent=Settings&view=List',5,0,0);
INSERT INTO `vtiger_settings_field` VALUES (5,1,'LBL_SHARING_ACCESS','shareaccess.gif','LBL_SHARING_ACCESS_DESCRIPTION','index.php?module=SharingAccess&parent=Settings&view=Index',4,0,0);
INSERT INTO `vtiger_settings_field` VALUES (7,1,'LBL_LOGIN_HISTORY_DETAILS','set-IcoLoginHistory.gif','LBL_LOGIN_HISTORY_DESCRIPTION','index.php?module=LoginHistory&parent=Settings&view=List',6,0,0);
INSERT INTO `vtiger_settings_field` VALUES (8,5,'VTLIB_LBL_MODULE_MANAGER','vtlib_modmng.gif','VTLIB_LBL_MODULE_MANAGER_DESCRIPTION','index.php?module=ModuleManager&parent=Settings&view=List',1,0,1);
INSERT INTO `vtiger_settings_field` VALUES (9,8,'LBL_PICKLIST_EDITOR','picklist.gif','LBL_PICKLIST_DESCRIPTION','index.php?parent=Settings&module=Picklist&view=Index',6,0,1);
INSERT INTO `vtiger_settings_field` VALUES (10,8,'LBL_PICKLIST_DEPENDENCY','picklistdependency.gif','LBL_PICKLIST_DEPENDENCY_DESCRIPTION','index.php?parent=Settings&module=PickListDependency&view=List',7,0,0);
INSERT INTO `vtiger_settings_field` VALUES (11,8,'LBL_MENU_EDITOR','menueditor.png','LBL_MENU_DESC','index.php?module=MenuEditor&parent=Settings&view=Index',8,0,0);
INSERT INTO `vtiger_settings_field` VALUES (14,8,'LBL_COMPANY_DETAILS','company.gif','LBL_COMPANY_DESCRIPTION','index.php?parent=Settings&module=Vtiger&view=CompanyDetails',1,0,0);
INSERT INTO `vtiger_settings_field` VALUES (15,8,'LBL_MAIL_SERVER_SETTINGS','ogmailserver.gif','LBL_MAIL_SERVER_DESCRIPTION','index.php?parent=Settings&module=Vtiger&view=OutgoingServerDetail',4,0,0);
INSERT INTO `vtiger_settings_field` VALUES (16,8,'LBL_CURRENCY_SETTINGS','currency.gif','LBL_CURRENCY_DESCRIPTION','index.php?parent=Settings&module=Currency&view=List',3,0,0);
INSERT INTO `vtiger_settings_field` VALUES (17,10,'LBL_TAX_SETTINGS','taxConfiguration.gif','LBL_TAX_DESCRIPTION','index.php?module=Vtiger&parent=Settings&view=TaxIndex',1,0,0);
INSERT INTO `vtiger_settings_field` VALUES (18,4,'LBL_SYSTEM_INFO','system.gif','LBL_SYSTEM_DESCRIPTION','index.php?module=Settings&submodule=Server&view=ProxyConfig',6,1,0);
INSERT INTO `vtiger_settings_field` VALUES (20,4,'LBL_DEFAULT_MODULE_VIEW','set-IcoTwoTabConfig.gif','LBL_DEFAULT_MODULE_VIEW_DESC','index.php?module=Settings&action=DefModuleView&parenttab=Settings',2,0,0);
INSERT INTO `vtiger_settings_field` VALUES (21,10,'INVENTORYTERMSANDCONDITIONS','terms.gif','LBL_INV_TANDC_DESCRIPTION','index.php?parent=Settings&module=Vtiger&view=TermsAndConditionsEdit',2,0,0);
INSERT INTO `vtiger_settings_field` VALUES (22,5,'LBL_CUSTOMIZE_MODENT_NUMBER','settingsInvNumber.gif','LBL_CUSTOMIZE_MODENT_NUMBER_DESCRIPTION','index.php?module=Vtiger&parent=Settings&view=CustomRecordNumbering',4,0,0);
INSERT INTO `vtiger_settings_field` VALUES (23,4,'LBL_MAIL_SCANNER','mailScanner.gif','LBL_MAIL_SCANNER_DESCRIPTION','index.php?parent=Settings&module=MailConverter&view=List',5,0,0);
INSERT INTO `vtiger_settings_field` VALUES (24,7,'LBL_LIST_WORKFLOWS','settingsWorkflow.png','LBL_LIST_WORKFLOWS_DESCRIPTION','index.php?module=Workflows&parent=Settings&view=List',3,0,1);
INSERT INTO `vtiger_settings_field` VALUES (25,8,'Configuration Editor','migrate.gif','LBL_CONFIG_EDITOR_DESCRIPTION','index.php?module=Vtiger&parent=Settings&view=ConfigEditorDetail',5,0,0);
INSERT INTO `vtiger_settings_field` VALUES (26,7,'Scheduler','Cron.png','Allows you to Configure Cron Task','index.php?module=CronTasks&parent=Settings&view=List',2,0,0);
INSERT INTO `vtiger_settings_field` VALUES (28,4,'ModTracker','set-IcoLoginHistory.gif','LBL_MODTRACKER_DESCRIPTION','index.php?module=ModTracker&action=BasicSettings&parenttab=Settings&formodule=ModTracker',9,0,0);
INSERT INTO `vtiger_settings_field` VALUES (29,6,'LBL_PBXMANAGER','','PBXManager module Configuration','index.php?module=PBXManager&parent=Settings&view=Index',2,0,0);
INSERT INTO `vtiger_settings_field` VALUES (30,8,'LBL_CUSTOMER_PORTAL','portal_icon.png','PORTAL_EXTENSION_DESCRIPTION','index.php?module=CustomerPortal&parent=Settings&view=Index',2,0,0);
INSERT INTO `vtiger_settings_field` VALUES (31,7,'Webforms','modules/Webforms/img/Webform.png','LBL_WEBFORMS_DESCRIPTION','index.php?module=Webforms&parent=Settings&view=List',1,0,0);
INSERT INTO `vtiger_settings_field` VALUES (32,5,'LBL_EDIT_FIELDS','','LBL_LAYOUT_EDITOR_DESCRIPTION','index.php?module=LayoutEditor&parent=Settings&view=Index',2,0,0);
INSERT INTO `vtiger_settings_field` VALUES (33,9,'LBL_LEAD_MAPPING','NULL','NULL','index.php?parent=Settings&module=Leads&view=MappingDetail',1,0,1);
INSERT INTO `vtiger_settings_field` VALUES (34,9,'LBL_OPPORTUNITY_MAPPING','NULL','NULL','index.php?parent=Settings&module=Potentials&view=MappingDetail',2,0,1);
INSERT INTO `vtiger_settings_field` VALUES (35,11,'My Preferences','NULL','NULL','index.php?module=Users&view=PreferenceDetail&parent=Settings&record=1',1,0,1);
INSERT INTO `vtiger_settings_field` VALUES (36,11,'Calendar Settings','NULL','NULL','index.php?module=Users&parent=Settings&view=Calendar&record=1',2,0,1);
INSERT INTO `vtiger_settings_field` VALUES (37,11,'LBL_MY_TAGS','NULL','NULL','index.php?module=Tags&parent=Settings&view=List&record=1',3,0,1);
INSERT INTO `vtiger_settings_field` VALUES (38,12,'LBL_EXTENSION_STORE','NULL','NULL','index.php?module=ExtensionStore&parent=Settings&view=ExtensionStore',1,0,1);
INSERT INTO `vtiger_settings_field` VALUES (39,12,'LBL_GOOGLE','NULL','NULL','index.php?module=Contacts&parent=Settings&view=Extension&extensionModule=Google&extensionView=Index&mode=settings',2,0,1);

CREATE TABLE `vtiger_settings_field_seq` (
  `id` int(11) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_settings_field_seq` VALUES (39);

CREATE TABLE `vtiger_links` (
  `linkid` int(11) NOT NULL,
  `tabid` int(11) DEFAULT NULL,
  `linktype` varchar(50) DEFAULT NULL,
  `linklabel` varchar(50) DEFAULT NULL,
  `linkurl` varchar(255) DEFAULT NULL,
  `linkicon` varchar(100) DEFAULT NULL,
  `sequence` int(11) DEFAULT NULL,
  `handler_path` varchar(128) DEFAULT NULL,
  `handler_class` varchar(50) DEFAULT NULL,
  `handler` varchar(50) DEFAULT NULL,
  `parent_link` int(19) DEFAULT NULL,
  PRIMARY KEY (`linkid`),
  KEY `link_tabidtype_idx` (`tabid`,`linktype`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_links` VALUES (2,6,'DETAILVIEW','LBL_SHOW_ACCOUNT_HIERARCHY','index.php?module=Accounts&action=AccountHierarchy&accountid=$RECORD$','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (5,0,'HEADERSCRIPT','Incoming Calls','modules/PBXManager/resources/PBXManagerJS.js','',0,'modules/PBXManager/PBXManager.php','PBXManager','checkLinkPermission',NULL);
INSERT INTO `vtiger_links` VALUES (9,7,'DETAILVIEWWIDGET','DetailViewBlockCommentWidget','block://ModComments:modules/ModComments/ModComments.php','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (10,4,'DETAILVIEWWIDGET','DetailViewBlockCommentWidget','block://ModComments:modules/ModComments/ModComments.php','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (11,6,'DETAILVIEWWIDGET','DetailViewBlockCommentWidget','block://ModComments:modules/ModComments/ModComments.php','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (12,2,'DETAILVIEWWIDGET','DetailViewBlockCommentWidget','block://ModComments:modules/ModComments/ModComments.php','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (15,41,'HEADERSCRIPT','ModCommentsCommonHeaderScript','modules/ModComments/ModCommentsCommon.js','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (16,4,'DETAILVIEWSIDEBARWIDGET','Google Map','module=Google&view=Map&mode=showMap&viewtype=detail','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (17,7,'DETAILVIEWSIDEBARWIDGET','Google Map','module=Google&view=Map&mode=showMap&viewtype=detail','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (18,6,'DETAILVIEWSIDEBARWIDGET','Google Map','module=Google&view=Map&mode=showMap&viewtype=detail','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (19,4,'LISTVIEWSIDEBARWIDGET','Google Contacts','module=Google&view=List&sourcemodule=Contacts','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (20,9,'LISTVIEWSIDEBARWIDGET','Google Calendar','module=Google&view=List&sourcemodule=Calendar','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (21,44,'HEADERSCRIPT','SMSNotifierCommonJS','modules/SMSNotifier/SMSNotifierCommon.js','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (22,7,'LISTVIEWBASIC','Send SMS','SMSNotifierCommon.displaySelectWizard(this, \'$MODULE$\');','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (23,7,'DETAILVIEW','Send SMS','javascript:SMSNotifierCommon.displaySelectWizard_DetailView(\'$MODULE$\', \'$RECORD$\');','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (24,4,'LISTVIEWBASIC','Send SMS','SMSNotifierCommon.displaySelectWizard(this, \'$MODULE$\');','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (25,4,'DETAILVIEW','Send SMS','javascript:SMSNotifierCommon.displaySelectWizard_DetailView(\'$MODULE$\', \'$RECORD$\');','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (26,6,'LISTVIEWBASIC','Send SMS','SMSNotifierCommon.displaySelectWizard(this, \'$MODULE$\');','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (27,6,'DETAILVIEW','Send SMS','javascript:SMSNotifierCommon.displaySelectWizard_DetailView(\'$MODULE$\', \'$RECORD$\');','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (28,49,'HEADERSCRIPT','ExtensionStoreCommonHeaderScript','modules/ExtensionStore/ExtensionStore.js','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (30,39,'DETAILVIEWWIDGET','DetailViewBlockCommentWidget','block://ModComments:modules/ModComments/ModComments.php','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (31,40,'DETAILVIEWBASIC','Add Project Task','index.php?module=ProjectTask&action=EditView&projectid=$RECORD$&return_module=Project&return_action=DetailView&return_id=$RECORD$','',0,'modules/ProjectTask/ProjectTask.php','ProjectTask','isLinkPermitted',NULL);
INSERT INTO `vtiger_links` VALUES (33,40,'DETAILVIEWWIDGET','DetailViewBlockCommentWidget','block://ModComments:modules/ModComments/ModComments.php','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (34,2,'DASHBOARDWIDGET','History','index.php?module=Potentials&view=ShowWidget&name=History','',1,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (35,2,'DASHBOARDWIDGET','Upcoming Activities','index.php?module=Potentials&view=ShowWidget&name=CalendarActivities','',2,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (36,2,'DASHBOARDWIDGET','Funnel','index.php?module=Potentials&view=ShowWidget&name=GroupedBySalesStage','',3,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (37,2,'DASHBOARDWIDGET','Potentials by Stage','index.php?module=Potentials&view=ShowWidget&name=GroupedBySalesPerson','',4,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (38,2,'DASHBOARDWIDGET','Pipelined Amount','index.php?module=Potentials&view=ShowWidget&name=PipelinedAmountPerSalesPerson','',5,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (39,2,'DASHBOARDWIDGET','Total Revenue','index.php?module=Potentials&view=ShowWidget&name=TotalRevenuePerSalesPerson','',6,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (40,2,'DASHBOARDWIDGET','Top Potentials','index.php?module=Potentials&view=ShowWidget&name=TopPotentials','',7,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (41,2,'DASHBOARDWIDGET','Overdue Activities','index.php?module=Potentials&view=ShowWidget&name=OverdueActivities','',9,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (42,6,'DASHBOARDWIDGET','History','index.php?module=Accounts&view=ShowWidget&name=History','',1,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (43,6,'DASHBOARDWIDGET','Upcoming Activities','index.php?module=Accounts&view=ShowWidget&name=CalendarActivities','',2,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (44,6,'DASHBOARDWIDGET','Overdue Activities','index.php?module=Accounts&view=ShowWidget&name=OverdueActivities','',3,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (45,4,'DASHBOARDWIDGET','History','index.php?module=Contacts&view=ShowWidget&name=History','',1,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (46,4,'DASHBOARDWIDGET','Upcoming Activities','index.php?module=Contacts&view=ShowWidget&name=CalendarActivities','',2,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (47,4,'DASHBOARDWIDGET','Overdue Activities','index.php?module=Contacts&view=ShowWidget&name=OverdueActivities','',3,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (48,7,'DASHBOARDWIDGET','History','index.php?module=Leads&view=ShowWidget&name=History','',1,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (49,7,'DASHBOARDWIDGET','Upcoming Activities','index.php?module=Leads&view=ShowWidget&name=CalendarActivities','',2,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (50,7,'DASHBOARDWIDGET','Leads by Status','index.php?module=Leads&view=ShowWidget&name=LeadsByStatus','',4,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (51,7,'DASHBOARDWIDGET','Leads by Source','index.php?module=Leads&view=ShowWidget&name=LeadsBySource','',5,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (52,7,'DASHBOARDWIDGET','Leads by Industry','index.php?module=Leads&view=ShowWidget&name=LeadsByIndustry','',6,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (53,7,'DASHBOARDWIDGET','Overdue Activities','index.php?module=Leads&view=ShowWidget&name=OverdueActivities','',7,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (54,13,'DASHBOARDWIDGET','Tickets by Status','index.php?module=HelpDesk&view=ShowWidget&name=TicketsByStatus','',1,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (55,13,'DASHBOARDWIDGET','Open Tickets','index.php?module=HelpDesk&view=ShowWidget&name=OpenTickets','',2,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (56,3,'DASHBOARDWIDGET','History','index.php?module=Home&view=ShowWidget&name=History','',1,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (57,3,'DASHBOARDWIDGET','Upcoming Activities','index.php?module=Home&view=ShowWidget&name=CalendarActivities','',2,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (58,3,'DASHBOARDWIDGET','Funnel','index.php?module=Potentials&view=ShowWidget&name=GroupedBySalesStage','',3,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (59,3,'DASHBOARDWIDGET','Potentials by Stage','index.php?module=Potentials&view=ShowWidget&name=GroupedBySalesPerson','',4,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (60,3,'DASHBOARDWIDGET','Pipelined Amount','index.php?module=Potentials&view=ShowWidget&name=PipelinedAmountPerSalesPerson','',5,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (61,3,'DASHBOARDWIDGET','Total Revenue','index.php?module=Potentials&view=ShowWidget&name=TotalRevenuePerSalesPerson','',6,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (62,3,'DASHBOARDWIDGET','Top Potentials','index.php?module=Potentials&view=ShowWidget&name=TopPotentials','',7,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (63,3,'DASHBOARDWIDGET','Leads by Status','index.php?module=Leads&view=ShowWidget&name=LeadsByStatus','',10,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (64,3,'DASHBOARDWIDGET','Leads by Source','index.php?module=Leads&view=ShowWidget&name=LeadsBySource','',11,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (65,3,'DASHBOARDWIDGET','Leads by Industry','index.php?module=Leads&view=ShowWidget&name=LeadsByIndustry','',12,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (66,3,'DASHBOARDWIDGET','Overdue Activities','index.php?module=Home&view=ShowWidget&name=OverdueActivities','',13,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (67,3,'DASHBOARDWIDGET','Tickets by Status','index.php?module=HelpDesk&view=ShowWidget&name=TicketsByStatus','',13,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (68,3,'DASHBOARDWIDGET','Open Tickets','index.php?module=HelpDesk&view=ShowWidget&name=OpenTickets','',14,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (69,13,'DETAILVIEWWIDGET','DetailViewBlockCommentWidget','block://ModComments:modules/ModComments/ModComments.php','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (70,15,'DETAILVIEWWIDGET','DetailViewBlockCommentWidget','block://ModComments:modules/ModComments/ModComments.php','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (99,3,'DASHBOARDWIDGET','Key Metrics','index.php?module=Home&view=ShowWidget&name=KeyMetrics','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (100,3,'DASHBOARDWIDGET','Mini List','index.php?module=Home&view=ShowWidget&name=MiniList','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (101,3,'DASHBOARDWIDGET','Tag Cloud','index.php?module=Home&view=ShowWidget&name=TagCloud','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (102,2,'DASHBOARDWIDGET','Funnel Amount','index.php?module=Potentials&view=ShowWidget&name=FunnelAmount','',10,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (103,3,'DASHBOARDWIDGET','Funnel Amount','index.php?module=Potentials&view=ShowWidget&name=FunnelAmount','',10,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (104,3,'DASHBOARDWIDGET','Notebook','index.php?module=Home&view=ShowWidget&name=Notebook','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (105,25,'LISTVIEWBASIC','LBL_ADD_RECORD','','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (106,25,'LISTVIEWBASIC','LBL_DETAIL_REPORT','javascript:Reports_List_Js.addReport(\"index.php?module=Reports&view=Edit\")','',0,'modules/Reports/models/Module.php','Reports_Module_Model','checkLinkAccess',105);
INSERT INTO `vtiger_links` VALUES (107,25,'LISTVIEWBASIC','LBL_CHARTS','javascript:Reports_List_Js.addReport(\"index.php?module=Reports&view=ChartEdit\")','',0,'modules/Reports/models/Module.php','Reports_Module_Model','checkLinkAccess',105);
INSERT INTO `vtiger_links` VALUES (108,25,'LISTVIEWBASIC','LBL_ADD_FOLDER','javascript:Reports_List_Js.triggerAddFolder(\"index.php?module=Reports&view=EditFolder\")','',0,'modules/Reports/models/Module.php','Reports_Module_Model','checkLinkAccess',NULL);
INSERT INTO `vtiger_links` VALUES (109,4,'EXTENSIONLINK','Google','index.php?module=Contacts&view=Extension&extensionModule=Google&extensionView=Index','',0,NULL,NULL,NULL,NULL);
INSERT INTO `vtiger_links` VALUES (110,9,'EXTENSIONLINK','Google','index.php?module=Calendar&view=Extension&extensionModule=Google&extensionView=Index','',0,NULL,NULL,NULL,NULL);

CREATE TABLE `vtiger_links_seq` (
  `id` int(11) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_links_seq` VALUES (110);

CREATE TABLE `vtiger_profile` (
  `profileid` int(10) NOT NULL AUTO_INCREMENT,
  `profilename` varchar(50) NOT NULL,
  `description` text DEFAULT NULL,
  `directly_related_to_role` int(1) DEFAULT 0,
  PRIMARY KEY (`profileid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_profile` VALUES (1,'Administrator','Admin Profile',0);
INSERT INTO `vtiger_profile` VALUES (2,'Sales Profile','Profile Related to Sales',0);
INSERT INTO `vtiger_profile` VALUES (3,'Support Profile','Profile Related to Support',0);
INSERT INTO `vtiger_profile` VALUES (4,'Guest Profile','Guest Profile for Test Users',0);

CREATE TABLE `vtiger_profile2tab` (
  `profileid` int(11) DEFAULT NULL,
  `tabid` int(10) DEFAULT NULL,
  `permissions` int(10) NOT NULL DEFAULT 0,
  KEY `profile2tab_profileid_tabid_idx` (`profileid`,`tabid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_profile2tab` VALUES (1,1,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,2,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,3,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,4,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,6,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,7,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,8,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,9,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,10,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,13,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,14,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,15,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,16,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,18,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,19,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,20,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,21,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,22,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,23,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,24,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,25,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,26,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,27,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,3,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,1,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,2,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,3,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,4,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,6,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,7,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,8,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,9,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,10,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,13,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,14,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,15,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,16,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,18,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,19,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,20,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,21,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,22,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,23,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,24,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,25,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,26,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,27,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,1,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,2,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,3,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,4,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,6,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,7,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,8,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,9,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,10,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,13,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,14,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,15,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,16,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,18,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,19,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,20,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,21,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,22,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,23,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,24,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,25,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,26,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,27,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,30,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,30,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,30,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,30,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,31,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,31,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,31,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,32,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,32,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,32,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,32,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,33,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,33,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,33,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,34,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,34,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,34,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,35,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,35,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,35,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,36,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,36,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,36,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,36,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,37,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,37,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,37,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,37,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,38,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,38,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,38,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,39,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,39,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,39,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,40,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,40,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,40,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,41,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,41,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,41,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,42,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,42,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,42,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,42,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,43,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,43,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,43,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,44,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,44,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,44,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,45,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,45,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,45,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,46,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,46,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,46,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,47,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,47,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,47,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,48,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,48,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,48,0);
INSERT INTO `vtiger_profile2tab` VALUES (1,49,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,49,0);
INSERT INTO `vtiger_profile2tab` VALUES (3,49,0);
INSERT INTO `vtiger_profile2tab` VALUES (4,49,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,1,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,2,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,4,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,6,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,7,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,8,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,9,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,10,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,13,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,14,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,15,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,18,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,19,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,20,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,21,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,22,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,23,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,24,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,25,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,26,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,27,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,31,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,33,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,34,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,35,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,38,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,39,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,40,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,41,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,43,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,44,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,45,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,46,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,47,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,48,0);
INSERT INTO `vtiger_profile2tab` VALUES (2,16,0);

CREATE TABLE `vtiger_profile2standardpermissions` (
  `profileid` int(11) NOT NULL,
  `tabid` int(10) NOT NULL,
  `operation` int(10) NOT NULL,
  `permissions` int(1) DEFAULT NULL,
  PRIMARY KEY (`profileid`,`tabid`,`operation`),
  KEY `profile2standardpermissions_profileid_tabid_operation_idx` (`profileid`,`tabid`,`operation`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

CREATE TABLE `vtiger_tab_info` (
  `tabid` int(19) DEFAULT NULL,
  `prefname` varchar(256) DEFAULT NULL,
  `prefvalue` varchar(256) DEFAULT NULL,
  KEY `fk_1_vtiger_tab_info` (`tabid`),
  CONSTRAINT `fk_1_vtiger_tab_info` FOREIGN KEY (`tabid`) REFERENCES `vtiger_tab` (`tabid`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_tab_info` VALUES (30,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (31,'vtiger_min_version','6.0.0');
INSERT INTO `vtiger_tab_info` VALUES (31,'vtiger_max_version','8.*');
INSERT INTO `vtiger_tab_info` VALUES (32,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (33,'vtiger_min_version','6.0.0RC');
INSERT INTO `vtiger_tab_info` VALUES (34,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (35,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (35,'vtiger_max_version','8.*');
INSERT INTO `vtiger_tab_info` VALUES (36,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (36,'vtiger_max_version','8.*');
INSERT INTO `vtiger_tab_info` VALUES (37,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (38,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (38,'vtiger_max_version','8.*');
INSERT INTO `vtiger_tab_info` VALUES (39,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (40,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (41,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (41,'vtiger_max_version','8.*');
INSERT INTO `vtiger_tab_info` VALUES (42,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (42,'vtiger_max_version','8.*');
INSERT INTO `vtiger_tab_info` VALUES (43,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (43,'vtiger_max_version','8.*');
INSERT INTO `vtiger_tab_info` VALUES (44,'vtiger_min_version','6.0.0');
INSERT INTO `vtiger_tab_info` VALUES (44,'vtiger_max_version','8.*');
INSERT INTO `vtiger_tab_info` VALUES (45,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (45,'vtiger_max_version','8.*');
INSERT INTO `vtiger_tab_info` VALUES (46,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (46,'vtiger_max_version','8.*');
INSERT INTO `vtiger_tab_info` VALUES (47,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (47,'vtiger_max_version','8.*');
INSERT INTO `vtiger_tab_info` VALUES (48,'vtiger_min_version','6.0.0rc');
INSERT INTO `vtiger_tab_info` VALUES (48,'vtiger_max_version','8.*');
INSERT INTO `vtiger_tab_info` VALUES (49,'vtiger_min_version','6.0.0');
INSERT INTO `vtiger_tab_info` VALUES (49,'vtiger_max_version','8.*');

CREATE TABLE `vtiger_parenttab` (
  `parenttabid` int(19) NOT NULL,
  `parenttab_label` varchar(100) NOT NULL,
  `sequence` int(10) NOT NULL,
  `visible` int(2) NOT NULL DEFAULT 0,
  PRIMARY KEY (`parenttabid`),
  KEY `parenttab_parenttabid_parenttabl_label_visible_idx` (`parenttabid`,`parenttab_label`,`visible`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_parenttab` VALUES (1,'My Home Page',1,0);
INSERT INTO `vtiger_parenttab` VALUES (2,'Marketing',2,0);
INSERT INTO `vtiger_parenttab` VALUES (3,'Sales',3,0);
INSERT INTO `vtiger_parenttab` VALUES (4,'Support',4,0);
INSERT INTO `vtiger_parenttab` VALUES (5,'Analytics',5,0);
INSERT INTO `vtiger_parenttab` VALUES (6,'Inventory',6,0);
INSERT INTO `vtiger_parenttab` VALUES (7,'Tools',7,0);
INSERT INTO `vtiger_parenttab` VALUES (8,'Settings',8,0);

CREATE TABLE `vtiger_parenttabrel` (
  `parenttabid` int(19) NOT NULL,
  `tabid` int(19) NOT NULL,
  `sequence` int(3) NOT NULL,
  KEY `parenttabrel_tabid_parenttabid_idx` (`tabid`,`parenttabid`),
  KEY `fk_2_vtiger_parenttabrel` (`parenttabid`),
  CONSTRAINT `fk_1_vtiger_parenttabrel` FOREIGN KEY (`tabid`) REFERENCES `vtiger_tab` (`tabid`) ON DELETE CASCADE,
  CONSTRAINT `fk_2_vtiger_parenttabrel` FOREIGN KEY (`parenttabid`) REFERENCES `vtiger_parenttab` (`parenttabid`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_parenttabrel` VALUES (1,9,2);
INSERT INTO `vtiger_parenttabrel` VALUES (1,28,4);
INSERT INTO `vtiger_parenttabrel` VALUES (1,3,1);
INSERT INTO `vtiger_parenttabrel` VALUES (3,7,1);
INSERT INTO `vtiger_parenttabrel` VALUES (3,6,2);
INSERT INTO `vtiger_parenttabrel` VALUES (3,4,3);
INSERT INTO `vtiger_parenttabrel` VALUES (3,2,4);
INSERT INTO `vtiger_parenttabrel` VALUES (3,20,5);
INSERT INTO `vtiger_parenttabrel` VALUES (3,22,6);
INSERT INTO `vtiger_parenttabrel` VALUES (3,23,7);
INSERT INTO `vtiger_parenttabrel` VALUES (3,19,8);
INSERT INTO `vtiger_parenttabrel` VALUES (3,8,9);
INSERT INTO `vtiger_parenttabrel` VALUES (4,13,1);
INSERT INTO `vtiger_parenttabrel` VALUES (4,15,2);
INSERT INTO `vtiger_parenttabrel` VALUES (4,6,3);
INSERT INTO `vtiger_parenttabrel` VALUES (4,4,4);
INSERT INTO `vtiger_parenttabrel` VALUES (4,8,5);
INSERT INTO `vtiger_parenttabrel` VALUES (5,1,2);
INSERT INTO `vtiger_parenttabrel` VALUES (5,25,1);
INSERT INTO `vtiger_parenttabrel` VALUES (6,14,1);
INSERT INTO `vtiger_parenttabrel` VALUES (6,18,2);
INSERT INTO `vtiger_parenttabrel` VALUES (6,19,3);
INSERT INTO `vtiger_parenttabrel` VALUES (6,21,4);
INSERT INTO `vtiger_parenttabrel` VALUES (6,22,5);
INSERT INTO `vtiger_parenttabrel` VALUES (6,20,6);
INSERT INTO `vtiger_parenttabrel` VALUES (6,23,7);
INSERT INTO `vtiger_parenttabrel` VALUES (7,24,1);
INSERT INTO `vtiger_parenttabrel` VALUES (7,27,2);
INSERT INTO `vtiger_parenttabrel` VALUES (7,8,3);
INSERT INTO `vtiger_parenttabrel` VALUES (2,26,1);
INSERT INTO `vtiger_parenttabrel` VALUES (2,6,2);
INSERT INTO `vtiger_parenttabrel` VALUES (2,4,3);
INSERT INTO `vtiger_parenttabrel` VALUES (2,28,4);
INSERT INTO `vtiger_parenttabrel` VALUES (4,28,7);
INSERT INTO `vtiger_parenttabrel` VALUES (2,7,5);
INSERT INTO `vtiger_parenttabrel` VALUES (2,9,6);
INSERT INTO `vtiger_parenttabrel` VALUES (4,9,8);
INSERT INTO `vtiger_parenttabrel` VALUES (2,8,8);
INSERT INTO `vtiger_parenttabrel` VALUES (3,9,11);
INSERT INTO `vtiger_parenttabrel` VALUES (7,31,4);
INSERT INTO `vtiger_parenttabrel` VALUES (7,31,5);
INSERT INTO `vtiger_parenttabrel` VALUES (7,33,6);
INSERT INTO `vtiger_parenttabrel` VALUES (7,33,7);
INSERT INTO `vtiger_parenttabrel` VALUES (4,34,9);
INSERT INTO `vtiger_parenttabrel` VALUES (4,34,10);
INSERT INTO `vtiger_parenttabrel` VALUES (6,35,8);
INSERT INTO `vtiger_parenttabrel` VALUES (6,35,9);
INSERT INTO `vtiger_parenttabrel` VALUES (4,38,11);
INSERT INTO `vtiger_parenttabrel` VALUES (4,38,12);
INSERT INTO `vtiger_parenttabrel` VALUES (4,39,13);
INSERT INTO `vtiger_parenttabrel` VALUES (4,39,14);
INSERT INTO `vtiger_parenttabrel` VALUES (4,40,15);
INSERT INTO `vtiger_parenttabrel` VALUES (4,40,16);
INSERT INTO `vtiger_parenttabrel` VALUES (3,44,12);
INSERT INTO `vtiger_parenttabrel` VALUES (3,44,13);
INSERT INTO `vtiger_parenttabrel` VALUES (6,46,10);
INSERT INTO `vtiger_parenttabrel` VALUES (6,46,11);
INSERT INTO `vtiger_parenttabrel` VALUES (7,47,8);
INSERT INTO `vtiger_parenttabrel` VALUES (7,47,9);
INSERT INTO `vtiger_parenttabrel` VALUES (7,48,10);
INSERT INTO `vtiger_parenttabrel` VALUES (7,48,11);
INSERT INTO `vtiger_parenttabrel` VALUES (8,49,1);
INSERT INTO `vtiger_parenttabrel` VALUES (8,49,2);
INSERT INTO `vtiger_parenttabrel` VALUES (7,24,12);
INSERT INTO `vtiger_parenttabrel` VALUES (7,27,13);
INSERT INTO `vtiger_parenttabrel` VALUES (7,47,14);
INSERT INTO `vtiger_parenttabrel` VALUES (7,48,15);

CREATE TABLE `vtiger_app2tab` (
  `tabid` int(11) DEFAULT NULL,
  `appname` varchar(20) DEFAULT NULL,
  `sequence` int(19) DEFAULT NULL,
  `visible` int(3) DEFAULT 1,
  KEY `vtiger_app2tab_fk_tab` (`tabid`),
  CONSTRAINT `vtiger_app2tab_fk_tab` FOREIGN KEY (`tabid`) REFERENCES `vtiger_tab` (`tabid`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_app2tab` VALUES (31,'TOOLS',5,1);
INSERT INTO `vtiger_app2tab` VALUES (34,'SUPPORT',3,1);
INSERT INTO `vtiger_app2tab` VALUES (35,'INVENTORY',2,1);
INSERT INTO `vtiger_app2tab` VALUES (47,'TOOLS',1,1);
INSERT INTO `vtiger_app2tab` VALUES (48,'TOOLS',4,1);
INSERT INTO `vtiger_app2tab` VALUES (49,'SETTINGS',1,1);
INSERT INTO `vtiger_app2tab` VALUES (2,'SALES',1,1);
INSERT INTO `vtiger_app2tab` VALUES (20,'SALES',2,1);
INSERT INTO `vtiger_app2tab` VALUES (4,'SALES',6,1);
INSERT INTO `vtiger_app2tab` VALUES (6,'SALES',7,1);
INSERT INTO `vtiger_app2tab` VALUES (14,'SALES',3,1);
INSERT INTO `vtiger_app2tab` VALUES (35,'SALES',4,1);
INSERT INTO `vtiger_app2tab` VALUES (4,'MARKETING',3,1);
INSERT INTO `vtiger_app2tab` VALUES (6,'MARKETING',4,1);
INSERT INTO `vtiger_app2tab` VALUES (7,'MARKETING',2,1);
INSERT INTO `vtiger_app2tab` VALUES (26,'MARKETING',1,1);
INSERT INTO `vtiger_app2tab` VALUES (4,'INVENTORY',8,1);
INSERT INTO `vtiger_app2tab` VALUES (6,'INVENTORY',9,1);
INSERT INTO `vtiger_app2tab` VALUES (22,'INVENTORY',5,1);
INSERT INTO `vtiger_app2tab` VALUES (23,'INVENTORY',4,1);
INSERT INTO `vtiger_app2tab` VALUES (14,'INVENTORY',1,1);
INSERT INTO `vtiger_app2tab` VALUES (18,'INVENTORY',7,1);
INSERT INTO `vtiger_app2tab` VALUES (19,'INVENTORY',3,1);
INSERT INTO `vtiger_app2tab` VALUES (21,'INVENTORY',6,1);
INSERT INTO `vtiger_app2tab` VALUES (4,'SUPPORT',6,1);
INSERT INTO `vtiger_app2tab` VALUES (6,'SUPPORT',7,1);
INSERT INTO `vtiger_app2tab` VALUES (13,'SUPPORT',1,1);
INSERT INTO `vtiger_app2tab` VALUES (15,'SUPPORT',2,1);
INSERT INTO `vtiger_app2tab` VALUES (46,'SUPPORT',4,1);
INSERT INTO `vtiger_app2tab` VALUES (40,'PROJECT',1,1);
INSERT INTO `vtiger_app2tab` VALUES (39,'PROJECT',2,1);
INSERT INTO `vtiger_app2tab` VALUES (38,'PROJECT',3,1);
INSERT INTO `vtiger_app2tab` VALUES (4,'PROJECT',4,1);
INSERT INTO `vtiger_app2tab` VALUES (6,'PROJECT',5,1);
INSERT INTO `vtiger_app2tab` VALUES (44,'SALES',5,1);
INSERT INTO `vtiger_app2tab` VALUES (44,'SUPPORT',5,1);
INSERT INTO `vtiger_app2tab` VALUES (24,'TOOLS',2,1);
INSERT INTO `vtiger_app2tab` VALUES (27,'TOOLS',3,1);

CREATE TABLE `vtiger_actionmapping` (
  `actionid` int(19) NOT NULL,
  `actionname` varchar(200) NOT NULL,
  `securitycheck` int(19) DEFAULT NULL,
  PRIMARY KEY (`actionid`,`actionname`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO `vtiger_actionmapping` VALUES (0,'Save',0);
INSERT INTO `vtiger_actionmapping` VALUES (0,'SavePriceBook',1);
INSERT INTO `vtiger_actionmapping` VALUES (0,'SaveVendor',1);
INSERT INTO `vtiger_actionmapping` VALUES (1,'DetailViewAjax',1);
INSERT INTO `vtiger_actionmapping` VALUES (1,'EditView',0);
INSERT INTO `vtiger_actionmapping` VALUES (1,'PriceBookEditView',1);
INSERT INTO `vtiger_actionmapping` VALUES (1,'QuickCreate',1);
INSERT INTO `vtiger_actionmapping` VALUES (1,'VendorEditView',1);
INSERT INTO `vtiger_actionmapping` VALUES (2,'Delete',0);
INSERT INTO `vtiger_actionmapping` VALUES (2,'DeletePriceBook',1);
INSERT INTO `vtiger_actionmapping` VALUES (2,'DeleteVendor',1);
INSERT INTO `vtiger_actionmapping` VALUES (3,'index',0);
INSERT INTO `vtiger_actionmapping` VALUES (3,'Popup',1);
INSERT INTO `vtiger_actionmapping` VALUES (4,'DetailView',0);
INSERT INTO `vtiger_actionmapping` VALUES (4,'PriceBookDetailView',1);
INSERT INTO `vtiger_actionmapping` VALUES (4,'TagCloud',1);
INSERT INTO `vtiger_actionmapping` VALUES (4,'VendorDetailView',1);
INSERT INTO `vtiger_actionmapping` VALUES (5,'Import',0);
INSERT INTO `vtiger_actionmapping` VALUES (6,'Export',0);
INSERT INTO `vtiger_actionmapping` VALUES (7,'CreateView',0);
INSERT INTO `vtiger_actionmapping` VALUES (8,'Merge',0);
INSERT INTO `vtiger_actionmapping` VALUES (9,'ConvertLead',0);
INSERT INTO `vtiger_actionmapping` VALUES (10,'DuplicatesHandling',0);
INSERT INTO `vtiger_actionmapping` VALUES (11,'ReceiveIncomingCalls',0);
INSERT INTO `vtiger_actionmapping` VALUES (12,'MakeOutgoingCalls',0);
INSERT INTO `vtiger_actionmapping` VALUES (13,'Print',0);
